include:
  - .hosts
  - .packages
  - .ca
  - drift
