{%- from "images/map.jinja" import images, push_refs with context %}
{#- Removes the build contexts and the local copies of the images; what was pushed stays in
    the registry (a tag there is never replaced). #}

images-build-dir-absent:
  file.absent:
    - name: {{ images.build_dir }}
{%- for name, ref in push_refs | dictsort %}

images-{{ name }}-local-copy-removed:
  cmd.run:
    - name: docker image rm {{ ref }}
    - onlyif: docker image inspect {{ ref }}
{%- endfor %}
