{#- The app image, app:<pillar app:version>. Not part of cluster.up's base images: `salt-run
    app.build` and `app.deploy` apply it (with the version they were given as pillar). #}
{%- from "images/build.jinja" import image_build with context %}
{%- from "nfs/map.jinja" import nfs with context %}
{#- The app's user owns the databases on the shared storage (nfs formula). #}
{{ image_build('app', {'APP_UID': nfs.app_uid, 'APP_GID': nfs.app_gid}) }}
