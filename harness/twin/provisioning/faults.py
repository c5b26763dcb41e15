"""The provisioning server's faults (issue 5), read by its HTTP server (:mod:`.http_server`) on every image GET."""

from __future__ import annotations

from ..core.faults import declare

IMAGE_404 = declare("image-404", ("provisioning",), "every firmware image GET answers 404 Not Found")
BAD_CHECKSUM = declare("bad-checksum", ("provisioning",), "firmware images are served with one byte changed (a "
                       "corrupt upload)")
