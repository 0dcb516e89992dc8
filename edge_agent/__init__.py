"""The Raspberry Pi edge agent (DESIGN §2): plays its signed plan on time, also offline, and reports.

Entry points: `edge_agent.cli.main(argv)` (``loaxa agent --config agent.toml``) and
`edge_agent.agent.Agent(config).run()`. Ports with one real adapter each: Player (player.py), Amplifier
(amplifier.py), Clock (clock.py). Imports only the stdlib, protocol/, paho-mqtt, cryptography,
sdnotify and gpiozero — never the controller side.
"""
