include:
  - .config
  - .container
