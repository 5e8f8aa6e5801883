"""Knowledge source documents for SDG, fetched safely.

`ref_from_qna` reads a qna's `document` block, `validate_ref` checks it (https, allowlisted
host, /owner/repo, 40-hex commit, relative `.md` patterns) and `fetch_documents` reads the
matching regular files at that commit through a cached, hardened, bare git fetch.
Pattern semantics: `taxonbot.documents.patterns`; git hardening: `taxonbot.documents.gitrepo`.
"""

from taxonbot.documents.fetch import (
    DocumentSet,
    FetchedDocument,
    fetch_document_set,
    fetch_documents,
)
from taxonbot.documents.rules import (
    DocumentError,
    DocumentRef,
    FetchLimits,
    ref_from_qna,
    validate_ref,
)
from taxonbot.documents.tree import SkippedPath

__all__ = [
    "DocumentError",
    "DocumentRef",
    "DocumentSet",
    "FetchLimits",
    "FetchedDocument",
    "SkippedPath",
    "fetch_document_set",
    "fetch_documents",
    "ref_from_qna",
    "validate_ref",
]
