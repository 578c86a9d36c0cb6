"""The synthetic demo county: `creditgov.demo.county.generate` writes a full ingestion folder."""
