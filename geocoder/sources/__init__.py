"""Address sources (地址数据源): the city's own address database, fed by the GIS admin from
vector files and OSM extracts (spec 5.1.6). `fields` maps columns, `read` reads files,
`build` makes records, `store` replaces a source's rows, `jobs` runs a load as a job."""
