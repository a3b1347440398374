include:
  - .package
  - .tls
  - .config
  - .service
