"""The bureau dashboard: a static page (HTML, CSS, JS; no build, no CDN) served by `serve`."""
