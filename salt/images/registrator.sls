{%- from "images/build.jinja" import image_build with context %}
{{ image_build('registrator') }}
