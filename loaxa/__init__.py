"""The composition root (DESIGN §2): the `loaxa` command, process wiring, the demo, the fleet simulator.

Nothing imports this package: it imports web/, controller/, edge_agent/ and protocol/ and puts them
together. The CLI imports only the standard library at start, so `loaxa agent` on a Raspberry Pi with
just the `edge` extra never loads the controller.
"""
