{%- from "registrator/map.jinja" import registrator with context %}
include:
{%- if registrator.get('stand_in') %}
  {#- Lab only: no buildable registrator reaches the lab; a Python stand-in does its job. #}
  - .standin
{%- else %}
  - .container
{%- endif %}
