"""Every SQL statement in chalicelib/ that reads user data takes its scope from Access.

Read from the source (ast), not from a run, so that a statement no test executes is
checked too. A statement reads user data when it reads (FROM, JOIN, UPDATE, DELETE) one
of USER_TABLES (or its _archive), or a table slot filled at run time. Each one must be,
in this order of preference:

- scoped by the one builder: the function that runs it (or, for a module-level template,
  every function of the module that uses the template) calls a predicate of
  `chalicelib.families.access` (SCOPE_BUILDERS), or a function that does, or takes one
  as an argument annotated `Visibility` (and then every caller passes one Access built:
  the second test);
- keyed: it reads rows by their id (or by the id of a parent) that the service has
  authorized with `Access.authorize` / `require_family` first (KEYED, below);
- a cross-user read by design (CROSS_USER, below, each with its reason).

And no statement outside access.py spells a visibility predicate by hand
(HAND_WRITTEN) unless it is a cross-user read. The lists are checked both ways: an
entry no statement needs any more fails too, so they stay the truth.
"""

import ast
import functools
import pathlib
import re
from collections import defaultdict

import chalicelib

PACKAGE = pathlib.Path(chalicelib.__file__).parent
# search_postings and search_backlog (sql/1301) hold each row's words and owner: user data too.
USER_TABLES = ("transactions", "accounts", "budgets", "goals", "categories", "search_postings", "search_backlog")
# A table named in the text, or a table slot ({} / {table}) filled at run time, which may
# be any of them (backups, retention and erasure walk lists of tables).
READS = re.compile(r"\b(?:FROM|JOIN|UPDATE)\s+(?:(?:" + "|".join(USER_TABLES) + r")(?:_archive)?\b|\{\w*\})", re.I)
SCOPE_BUILDERS = {
    "visible",
    "visible_parts",
    "visible_postings",
    "category_visible",
    "personal",
    "in_family",
    "authored",
}
SCOPE_FUNCTIONS = {"owned_by", "same_owner"}
# A visibility rule written out: the owner/family pair or a membership lookup.
HAND_WRITTEN = re.compile(
    r"family_id\s+IS\s+(NOT\s+)?NULL\s+AND\s+\w*\.?user_id\s*="
    r"|family_id\s*=\s*ANY"
    r"|family_id\s+IS\s+NOT\s+DISTINCT\s+FROM"
    r"|JOIN\s+family_members|FROM\s+family_members",
    re.I,
)
# How a keyed statement names its rows: an id (of the row or its parent) from the caller.
KEY = re.compile(
    r"\b(?:\w+\.)?(?:id|account_id|bank_connection_id|category_id|parent_id)\s*=\s*(?:ANY\s*\()?\s*"
    r"(?:%|\w+\.(?:id|account_id|category_id|existing_id)\b)",
    re.I,
)

# Statements that read rows by id after the caller's service authorized the row (or its
# account) through Access: module:function -> what authorizes it.
KEYED = {
    "bank_sync/page_repo.py:lock_accounts": "the sync's accounts, of a connection the owner authorized",
    "bank_sync/page_repo.py:stage": "rows of the connection's accounts being synced",
    "bank_sync/page_repo.py:write": "rows of the connection's accounts being synced",
    "bank_sync/page_repo.py:_update_existing": "rows of the connection's accounts being synced",
    "bank_sync/repo.py:accounts_of": "the accounts of one bank connection, authorized by its service",
    "bank_sync/repo.py:anchor_balance": "one account of a connection being synced",
    "bank_sync/repo.py:linked_accounts": "the accounts of connections the caller may read",
    "budgets/spending.py:budget_lines": "category names of budget lines the caller's `where` scoped",
    "budgets/repo.py:get": "loaded by id, then Access.authorize in budgets/service",
    "budgets/repo.py:delete": "after Access.authorize(MANAGE) in budgets/service",
    "budgets/repo.py:update": "after Access.authorize(MANAGE) in budgets/service",
    "bank_sync/repo.py:attach_account": "an account of the owner's connection (find_relinkable_account)",
    "bank_sync/repo.py:set_last_sync": "the accounts of the connection being synced",
    "exports/report_repo.py:category_labels": "the categories of budget lines in the export's (scoped) budgets",
    "goals/repo.py:update": "after Access.authorize(MANAGE) in goals/service",
    "imports/repo.py:replace_pending_twins": "rows of the import's account, authorized when the import was created",
    "ledger/accounts/repo.py:update": "after Access.authorize(MANAGE)",
    "ledger/accounts/repo.py:move_transactions": "the rows of an account moved after Access.authorize(MANAGE)",
    "ledger/categories/repo.py:update": "after Access.authorize(MANAGE)",
    "ledger/transactions/repo.py:update": "after Access.authorize(WRITE_TRANSACTIONS)",
    "categorization/repo.py:category": "loaded by id, then Access.can_see in categorization/service",
    "exports/report_repo.py:account_of": "loaded by id, then Access.authorize in exports/service (reread at build)",
    "goals/repo.py:get": "loaded by id, then Access.authorize in goals/service",
    "goals/repo.py:delete": "after Access.authorize(MANAGE) in goals/service",
    "imports/repo.py:find_account": "loaded by id, then Access.authorize(WRITE_TRANSACTIONS)",
    "imports/repo.py:mark_duplicates": "rows of the import's account, authorized when the import was created",
    "imports/repo.py:match_pending_twins": "rows of the import's account, authorized when the import was created",
    "ledger/accounts/repo.py:get": "loaded by id, then Access.authorize in ledger/accounts/service",
    "ledger/accounts/repo.py:lock_in_order": "accounts already authorized by the transfer's service",
    "ledger/accounts/repo.py:delete": "after Access.authorize(MANAGE)",
    "ledger/accounts/repo.py:has_transactions": "after Access.authorize(MANAGE) on the account",
    "ledger/accounts/service.py:delete_account": "the lock of an account just authorized",
    "ledger/categories/repo.py:get": "loaded by id, then Access.authorize in ledger/categories/service",
    "ledger/categories/repo.py:depth_of": "the tree above a category the caller authorized",
    "ledger/categories/repo.py:subtree_height": "the tree below a category the caller authorized",
    "ledger/categories/repo.py:reassign_and_delete": "after Access.authorize(MANAGE)",
    "ledger/categories/service.py:delete_category": "owners of rows moved off an authorized category",
    "ledger/transactions/repo.py:get": "loaded by id, then Access.authorize in ledger/transactions/service",
    "ledger/transactions/repo.py:get_archived": "loaded by id, then Access.authorize in ledger/transactions/service",
    "ledger/transactions/repo.py:delete": "after Access.authorize(WRITE_TRANSACTIONS)",
    "search/repo.py:account_owner": "loaded by id, then Access.authorize (READ) in search/service",
    "search/repo.py:transactions_of_page": "ids of hits the search statement scoped with Access.visible",
}

# Statements that read across users on purpose: module:function -> why.
CROSS_USER = {
    "infra/outbox.py:set_upsert_of": "a fragment, not a read: its FROM slot is the RETURNING CTE of the "
    "write statement it is part of (imports/repo.insert_transactions), never a table",
    "analytics/repo.py:category_roots": "the default category tree (Income, transfers): shared, not user data",
    "bank_sync/sync.py:_default_categories": "the default categories, shared by everyone",
    "categorization/engine.py:_keyword_categories": "the default categories, shared by everyone",
    "budgets/spending.py:<module>": "the budget-alerts schedule evaluates every budget; a budget counts "
    "its owner's accounts (personal, or the family's), per user by the caller's `where`",
    "budgets/alerts.py:<module>": "alerts go to every reader of a budget (its family's members)",
    "insights/repo.py:<module>": "the recurring-payments schedule groups every account per reader "
    "(the owner, or each family member); a per-user run filters the same set",
    "insights/unusual.py:<module>": "the unusual-spending schedule scans every user's new outflows",
    "erasure/repo.py:erase_personal_rows": "erasure deletes the erased user's personal rows",
    "erasure/repo.py:delete_family": "erasure deletes a family the erased user owned alone",
    "erasure/repo.py:clear_family_receipts": "erasure unlinks the erased user's receipts from shared rows",
    "families/repo.py:count_accounts": "family deletion checks its family's accounts (owner authorized)",
    "families/repo.py:category_ids": "family deletion: the family's categories",
    "families/repo.py:uncategorize_family_categories": "a member leaving: rows filed under the family's categories",
    "backups/dump.py:dump_lines": "a backup copies every table whole",
    "erasure/repo.py:sweep_reference": "erasure clears every reference to the erased user, table by table",
    "retention/repo.py:count_rows": "retention moves every user's old rows to the archive",
    "retention/repo.py:default_months": "retention moves every user's old rows to the archive",
    "retention/repo.py:move_rows": "retention moves every user's old rows to the archive",
    "search/repo.py:<module>": "the reindex copies every row into the search index (scoped at query time)",
    "search/repo.py:transactions_by_id": "the search sync indexes the rows the outbox names, whoever owns them",
    "search/repo.py:categories_by_id": "the search sync indexes the rows the outbox names, whoever owns them",
    "search/repo.py:take_backlog_entry": "the postings job builds what every deferred import owes (sql/1301)",
    "search/repo.py:count_backlog": "the postings job reports what every deferred import still owes",
}


def _statements() -> list[tuple[str, str, ast.AST, ast.Module]]:
    """(module:function, text, node, module tree) for every string constant reading USER_TABLES."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "families/access.py":
            continue
        tree = _modules()[rel]
        owner: dict[int, str] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    owner.setdefault(id(node), fn.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and READS.search(node.value):
                found.append((f"{rel}:{owner.get(id(node), '<module>')}", node.value, node, tree))
    return found


@functools.cache
def _modules() -> dict[str, ast.Module]:
    return {p.relative_to(PACKAGE).as_posix(): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def _functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _called(node: ast.AST) -> set[str]:
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            if isinstance(n.func, ast.Attribute):
                names.add(n.func.attr)
            elif isinstance(n.func, ast.Name):
                names.add(n.func.id)
    return names


def _visibility_params(fn: ast.FunctionDef) -> list[str]:
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    return [a.arg for a in args if a.annotation is not None and "Visibility" in ast.unparse(a.annotation)]


def _building_functions() -> set[str]:
    """Names of functions that build a scope from Access: they call a predicate of Access,
    or a function that does (by name, to a fixed point), or take a Visibility."""
    functions = [fn for tree in _modules().values() for fn in _functions(tree)]
    building = set(SCOPE_BUILDERS | SCOPE_FUNCTIONS)
    while True:
        more = {fn.name for fn in functions if _called(fn) & building or _visibility_params(fn)} - building
        if not more:
            return building
        building |= more


BUILDING = _building_functions()


def _builds_scope(fn: ast.AST) -> bool:
    return bool(_called(fn) & BUILDING) or bool(_visibility_params(fn))


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _scoped(key: str, node: ast.AST, tree: ast.Module) -> bool:
    functions = _functions(tree)
    function = key.rsplit(":", 1)[1]
    if function != "<module>":
        return any(_builds_scope(fn) for fn in functions if fn.name == function)
    # A module-level template: the names it is bound to (and names built from those),
    # then every function of the module that uses one of them must build the scope.
    names: set[str] = set()
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)]
    for a in assigns:
        if any(n is node for n in ast.walk(a.value)):
            names |= {t.id for t in a.targets if isinstance(t, ast.Name)}
    for a in assigns:
        if _names(a.value) & names:
            names |= {t.id for t in a.targets if isinstance(t, ast.Name)}
    users = [fn for fn in functions if _names(fn) & names]
    return bool(users) and all(_builds_scope(fn) for fn in users)


def test_every_user_data_query_takes_its_scope_from_access():
    unscoped = defaultdict(list)
    hand_written = []
    seen = set()
    for key, text, node, tree in _statements():
        seen.add(key)
        snippet = " ".join(text.split())[:120]
        if HAND_WRITTEN.search(text) and key not in CROSS_USER:
            hand_written.append(f"{key}: {snippet}")
        if key in CROSS_USER:
            continue
        if key in KEYED:
            if not KEY.search(text) and not _scoped(key, node, tree):
                unscoped[key].append(f"listed as keyed but reads by no id: {snippet}")
            continue
        if not _scoped(key, node, tree):
            unscoped[key].append(snippet)
    assert not hand_written, "visibility written by hand, use Access:\n" + "\n".join(hand_written)
    assert not unscoped, "reads user data without a scope from Access:\n" + "\n".join(
        f"{k}: {v}" for k, vs in sorted(unscoped.items()) for v in vs
    )
    stale = sorted((set(KEYED) | set(CROSS_USER)) - seen)
    assert not stale, f"allow-list entries no statement needs any more: {stale}"


def _derived_from_access(expr: ast.AST, fn: ast.FunctionDef) -> bool:
    """An argument built by Access: a call of a building function, or a local name
    assigned from one, or the caller's own Visibility argument."""
    if _called(expr) & BUILDING:
        return True
    names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
    if names & set(_visibility_params(fn)):
        return True
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if bound & names and _called(node.value) & BUILDING:
                return True
    return False


def test_every_visibility_argument_comes_from_access():
    takes = {}
    for tree in _modules().values():
        for fn in _functions(tree):
            if params := _visibility_params(fn):
                takes[fn.name] = params
    assert takes, "no repository takes a Visibility: the check below would prove nothing"
    wrong = []
    for rel, tree in _modules().items():
        for fn in _functions(tree):
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
                for kw in call.keywords:
                    if kw.arg in takes.get(name, ()) and not _derived_from_access(kw.value, fn):
                        wrong.append(f"{rel}:{fn.name} passes {kw.arg}= to {name} not built by Access")
    assert not wrong, "\n".join(wrong)
