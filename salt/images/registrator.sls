{%- from "images/build.jinja" import image_build with context %}
{%- from "images/map.jinja" import refs, in_registry with context %}
{%- set registrator = salt['topology.component']('registrator') %}
{%- if registrator.get('stand_in') %}

images-registrator-not-needed:
  test.show_notification:
    - text: registrator:stand_in is set (lab); the registrator stand-in runs as a service, no image.
{%- elif registrator.get('go_module') %}
{#- Built from the binary the master compiled from its Go module. #}
{{ image_build('registrator') }}
{%- else %}
{#- The pinned upstream image, retagged into the private registry once. #}
include:
  - docker

images-registrator-pulled-and-tagged:
  cmd.run:
    - name: docker pull {{ registrator.image }} && docker tag {{ registrator.image }} {{ refs.registrator }}
    - unless: {{ in_registry('registrator') | json }}
    - require:
      - service: docker-service-running

images-registrator-pushed:
  cmd.run:
    - name: docker push {{ refs.registrator }}
    - onchanges:
      - cmd: images-registrator-pulled-and-tagged
{%- endif %}
