"""Knowledge source documents for SDG, fetched safely.

`rules.ref_from_qna` reads a qna's `document` block, `rules.validate_ref` checks it (https,
allowlisted host, /owner/repo, 40-hex commit, relative `.md` patterns) and
`fetch.fetch_documents` reads the matching regular files at that commit through a cached,
hardened, bare git fetch. Pattern semantics: `patterns`; git hardening: `gitrepo`.
Nothing is imported here: `taxonbot check` uses `rules` alone and must not load the fetch.
"""
