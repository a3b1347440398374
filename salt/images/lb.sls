{#- salt://lb/image (lb formula) expects consul-template in its context. #}
{%- from "images/build.jinja" import image_build with context %}
{{ image_build('lb') }}
