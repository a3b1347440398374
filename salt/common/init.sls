include:
  - .hosts
  - .packages
  - .ca
  - drift
  - firewall
