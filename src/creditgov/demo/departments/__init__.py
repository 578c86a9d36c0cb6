"""One module per department: each writes that department's source files and specs over the
county's population (`creditgov.demo.population`)."""
