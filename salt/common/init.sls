include:
  - .hosts
  - .packages
  - .ca
