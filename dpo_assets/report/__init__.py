"""The iteration report: charts and a Markdown/HTML page of one run, from raw lines to DPO pairs."""
