"""The web client: pages rendered on the server (they work without JavaScript) and the static
scripts and styles that enhance them (streaming replies, dialogs, the theme toggle).

Pages are served by the `web` function behind the same API as everything else; the files under
`static/` are served from S3 behind CloudFront on AWS and by the local gateway under /static/.
"""
