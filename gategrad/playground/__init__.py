"""The playground: gategrad's own engine in the browser (Pyodide), built as a static site and served locally."""
