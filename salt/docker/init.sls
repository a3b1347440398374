include:
  - .package
  - .config
  - .ca
  - .service
