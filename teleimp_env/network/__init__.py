"""The network: delay, jitter, loss and traces (``channel``), link specs, the packet window."""
