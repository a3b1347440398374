include:
  - marker
