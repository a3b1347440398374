include:
  - .tls
  - .config
  - .container
