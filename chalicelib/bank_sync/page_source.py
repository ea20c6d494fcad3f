"""Where a sync's pages and new accounts come from: the provider's pages by cursor (one
asked for ahead, where configured) and the item's accounts we do not hold yet."""

from concurrent.futures import Future, ThreadPoolExecutor

from chalicelib.bank_sync.provider import BankProvider, ProviderAccount, SyncPage


class Pages:
    """Sync pages by cursor. With prefetch, the page after a cursor is asked for on a thread
    while the current page is written; it is handed out only for that very cursor, so a
    restart from another cursor (a stale or failed page) never sees it."""

    def __init__(self, provider: BankProvider, token: str, *, count: int, prefetch: bool):
        self._provider, self._token, self._count = provider, token, count
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bank-sync-page") if prefetch else None
        self._ahead: tuple[str | None, Future] | None = None

    def get(self, cursor: str | None) -> SyncPage:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == cursor:
            return ahead[1].result()  # raises what the request raised
        if ahead is not None:
            ahead[1].cancel()
        return self._provider.sync_page(self._token, cursor=cursor, count=self._count)

    def ahead(self, cursor: str) -> None:
        if self._pool is not None:
            self._ahead = (cursor, self._pool.submit(self._provider.sync_page, self._token, cursor=cursor,
                                                     count=self._count))  # fmt: skip

    def close(self) -> None:
        self._ahead = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class ItemAccounts:
    """Accounts of the item that we do not hold yet (one opened after linking): those a page
    lists, or, for a transaction on an account the page does not list, those /accounts/get
    returns (asked once a run). An account id the item does not have stays unknown: its
    transactions are ignored and counted."""

    def __init__(self, provider: BankProvider, token: str, *, held: set[str]):
        self._provider, self._token, self._held = provider, token, held
        self._item: dict[str, ProviderAccount] | None = None

    def new_in(self, page: SyncPage) -> list[ProviderAccount]:
        listed = {a.account_id: a for a in page.accounts if a.account_id not in self._held}
        wanted = {t.account_id for t in (*page.added, *page.modified)} - self._held - set(listed)
        if wanted and self._item is None:
            self._item = {a.account_id: a for a in self._provider.get_item(self._token).accounts}
        found = listed | {i: self._item[i] for i in wanted if self._item and i in self._item}
        return list(found.values())

    def linked(self, accounts: list[ProviderAccount]) -> None:
        self._held.update(a.account_id for a in accounts)
