{%- from "images/build.jinja" import image_build with context %}
{%- from "images/map.jinja" import push_refs, in_registry with context %}
{%- from "registrator/map.jinja" import registrator with context %}
{%- if registrator.image_source == 'build' %}
{#- Built from images:builds:registrator: its context, and the master-built binary it names. #}
{{ image_build('registrator') }}
{%- else %}
{#- The pinned upstream image, retagged into the private registry once. #}
include:
  - docker

images-registrator-pulled-and-tagged:
  cmd.run:
    - name: docker pull {{ registrator.image }} && docker tag {{ registrator.image }} {{ push_refs.registrator }}
    - unless: {{ in_registry('registrator') }}
    - require:
      - service: docker-service-running

images-registrator-pushed:
  cmd.run:
    - name: docker push {{ push_refs.registrator }}
    - onchanges:
      - cmd: images-registrator-pulled-and-tagged
{%- endif %}
