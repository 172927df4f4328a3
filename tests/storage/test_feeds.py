def test_saving_a_feed_changes_only_the_columns_given(store):
    store.feeds.save("https://x/rss", etag="e1", last_status="ok")
    store.feeds.save("https://x/rss", last_status="http_error", consecutive_errors=1)
    row = store.feeds.get("https://x/rss")
    assert (row["etag"], row["last_status"], row["consecutive_errors"]) == ("e1", "http_error", 1)
    assert store.feeds.get("https://y/rss") is None


def test_runtime_feeds_are_listed_until_removed(store):
    store.feeds.save("https://declared/rss", last_status="ok")
    store.feeds.add_runtime("https://a/rss", "a", "arxiv", False)
    store.feeds.add_runtime("https://b/rss", "b", "rss", True)
    assert [row["url"] for row in store.feeds.runtime()] == ["https://a/rss", "https://b/rss"]
    store.feeds.remove("https://b/rss")
    assert [row["url"] for row in store.feeds.runtime()] == ["https://a/rss"]
    assert store.feeds.removed_urls() == {"https://b/rss"}
    assert [row["url"] for row in store.feeds.all()] == [
        "https://a/rss",
        "https://b/rss",
        "https://declared/rss",
    ]
    store.feeds.add_runtime("https://b/rss", "b", "rss", True)
    assert store.feeds.removed_urls() == set()
