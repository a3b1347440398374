{%- from "mesos/map.jinja" import mesos with context %}
{#- CRAM-MD5, which Mesos' authenticator and Marathon's libmesos use, is Cyrus SASL's plugin:
    the Mesos and Marathon formulas both include this. #}
mesos-sasl-package-installed:
  pkg.installed:
    - name: {{ mesos.sasl_package }}
