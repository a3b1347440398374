include:
  - .package
  - .config
  - .ca
  - .login
  - .service
