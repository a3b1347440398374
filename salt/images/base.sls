{%- from "images/map.jinja" import images, push_refs, in_registry with context %}
{%- set rootfs = images.build_dir ~ '/base-rootfs' %}
include:
  - docker

{%- if images.base_source == 'pull' %}

images-base-pulled-and-tagged:
  cmd.run:
    - name: docker pull {{ images.base }} && docker tag {{ images.base }} {{ push_refs.base }}
    - unless: {{ in_registry('base') }}
    - require:
      - service: docker-service-running
{%- set made = 'images-base-pulled-and-tagged' %}

{%- elif images.base_source == 'debootstrap' %}
{#- No public registry reachable (the lab): build the base from Debian packages. #}

images-debootstrap-installed:
  pkg.installed:
    - name: debootstrap

{#- debootstrap writes only the release suite; the image gets the builder's own apt sources
    (updates and security too), as the images built on it pin those versions. #}
images-base-rootfs-built:
  cmd.run:
    - name: >-
        rm -rf {{ rootfs }} &&
        debootstrap --variant={{ images.variant }} {{ images.suite }} {{ rootfs }} {{ salt['debian.mirror']() }} &&
        rm -f {{ rootfs }}/var/cache/apt/archives/*.deb {{ rootfs }}/etc/apt/sources.list &&
        cp -a /etc/apt/sources.list* {{ rootfs }}/etc/apt/
    - unless: {{ in_registry('base') }}
    - require:
      - pkg: images-debootstrap-installed

images-base-imported:
  cmd.run:
    - name: >-
        tar -C {{ rootfs }} --numeric-owner -cf {{ rootfs }}.tar . &&
        docker import --change 'CMD ["bash"]' {{ rootfs }}.tar {{ push_refs.base }}
    - require:
      - service: docker-service-running
    - onchanges:
      - cmd: images-base-rootfs-built

images-base-rootfs-absent:
  file.absent:
    - names:
      - {{ rootfs }}
      - {{ rootfs }}.tar
    - require:
      - cmd: images-base-imported
{%- set made = 'images-base-imported' %}

{%- else %}
{{ raise('images:base_source is ' ~ images.base_source ~ '; it must be pull or debootstrap') }}
{%- endif %}

images-base-pushed:
  cmd.run:
    - name: docker push {{ push_refs.base }}
    - onchanges:
      - cmd: {{ made }}
