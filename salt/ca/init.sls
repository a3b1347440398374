include:
  - .authority
  - .trust
  - .publish
  - .signing
