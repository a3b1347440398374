include:
  - .package
  - .config
  - .service
  - .acl
  - .keyring
