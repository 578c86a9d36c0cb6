"""The synthetic demo county: `creditgov.demo.generator.generate` writes a full ingestion folder."""
