include:
  - .secret
