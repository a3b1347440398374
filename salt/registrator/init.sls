include:
  - .container
