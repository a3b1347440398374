include:
  - .package
  - .config
  - .service
  - .acl
