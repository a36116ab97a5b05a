"""The traffic model: scenario, rates, pools, anomalies and the draws that make events."""
