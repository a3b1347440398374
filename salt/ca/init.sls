include:
  - .authority
  - .trust
  - .publish
