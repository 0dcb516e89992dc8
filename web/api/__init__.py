"""The REST API under /api/v1 (DESIGN §8): one blueprint module per area, plus shared plumbing.

Areas: auth, bulletins, devices, tts, plays, health, assets. Plumbing: errors (the one error mapping),
guards (content type, size), security (bearer token, permissions), schemas, serialize, uploads.
Handlers call controller.services and the runtime's hooks; they never touch MQTT or SQL directly.
"""
