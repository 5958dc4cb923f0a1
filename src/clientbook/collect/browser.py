"""Web tracking: the snippet served as ``/clientbook.js``, the settings analytics-next asks for,
and the bundled browser files of ``@segment/analytics-next`` (served by Clientbook, no CDN).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The built browser files of @segment/analytics-next 1.84.3 (MIT), copied from its npm package.
STATIC = Path(__file__).parent / "static" / "analytics-next"
ANALYTICS_NEXT_VERSION = "1.84.3"

SNIPPET = """\
/* Clientbook web tracking: loads @segment/analytics-next from this server.
   <script src="ORIGIN/clientbook.js" data-write-key="KEY"></script>
   data-page="false" skips the automatic page view. */
(function () {
  var script = document.currentScript;
  if (!script) { return; }
  var key = script.getAttribute("data-write-key");
  var origin = new URL(script.src, window.location.href).origin;
  var analytics = (window.analytics = window.analytics || []);
  if (analytics.initialize || analytics.invoked) { return; }
  if (!key) { console.error("clientbook.js: the script tag needs data-write-key"); return; }
  analytics.invoked = true;
  analytics.methods = ["trackSubmit", "trackClick", "trackLink", "trackForm", "pageview",
    "identify", "reset", "group", "track", "ready", "alias", "debug", "page", "screen", "once",
    "off", "on", "addSourceMiddleware", "addIntegrationMiddleware", "setAnonymousId",
    "addDestinationMiddleware", "register"];
  analytics.factory = function (method) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      args.unshift(method);
      analytics.push(args);
      return analytics;
    };
  };
  for (var i = 0; i < analytics.methods.length; i++) {
    analytics[analytics.methods[i]] = analytics.factory(analytics.methods[i]);
  }
  analytics._writeKey = key;
  analytics._cdn = origin;
  analytics.SNIPPET_VERSION = "5.2.1";
  var loader = document.createElement("script");
  loader.async = true;
  loader.src = origin + "/analytics-next/standalone.js";
  document.head.appendChild(loader);
  if (script.getAttribute("data-page") !== "false") { analytics.page(); }
})();
"""


def snippet() -> str:
    """The JavaScript of ``/clientbook.js``."""
    return SNIPPET


def project_settings(write_key: str, host: str, scheme: str) -> dict[str, Any]:
    """What ``GET /v1/projects/{writeKey}/settings`` answers: send every event to this server."""
    return {
        "integrations": {
            "Segment.io": {"apiKey": write_key, "apiHost": f"{host}/v1", "protocol": scheme}
        },
        "plan": {
            "track": {"__default": {"enabled": True}},
            "identify": {"__default": {"enabled": True}},
        },
        "metrics": {"sampleRate": 0},
        "remotePlugins": [],
        "enabledMiddleware": {},
    }


def static_file(name: str) -> Path | None:
    """A bundled analytics-next file by name (``standalone.js``, ``bundles/<chunk>.js``)."""
    name = name.removeprefix("bundles/")
    if "/" in name or not name.endswith(".js"):
        return None
    path = STATIC / name
    return path if path.is_file() else None
