include:
  - .package
  - .config
  - .service
  - .znodes
