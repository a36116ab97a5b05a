"""The traffic model: scenario, rates, catalog, pools, anomalies and the draws that make events.

It owns what a run is (the scenario and its checks) and what happens in it (events as numpy
columns); it knows nothing of how a line looks or where it goes.

May import: nothing of synth beyond the shared leaves.
"""
