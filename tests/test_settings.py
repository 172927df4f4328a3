import pytest

from bot.settings import SettingsError, SlackSettings, load_settings


def write(tmp_path, text):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return path


def refusal(tmp_path, text):
    """The message load_settings refuses a settings file holding `text` with, its path
    written {file}."""
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        load_settings(path, env={})
    return str(raised.value).replace(str(path), "{file}")


def test_defaults_load_with_every_key():
    settings = load_settings(env={})
    assert settings.model.path == "bundled"
    assert 0 < settings.matching.default_threshold < 1
    assert settings.feeds == ()


def test_user_file_overrides_and_replaces_feed_list(tmp_path):
    path = write(
        tmp_path,
        '[matching]\ndefault_threshold = 0.5\n[[feeds]]\nurl = "https://rss.arxiv.org/rss/cs.CL"\n',
    )
    settings = load_settings(path, env={})
    assert settings.matching.default_threshold == 0.5
    assert settings.matching.max_alerts_per_cycle == 15
    assert [f.url for f in settings.feeds] == ["https://rss.arxiv.org/rss/cs.CL"]
    assert settings.feeds[0].include_cross_lists is True


def test_env_sets_database_and_slack(tmp_path):
    path = write(tmp_path, "")
    settings = load_settings(
        env={"PAPERBOT_CONFIG": str(path), "PAPERBOT_DB": "x.db", "SLACK_BOT_TOKEN": "xoxb-1"}
    )
    assert settings.database.path == "x.db"
    assert settings.slack.bot_token == "xoxb-1"


def test_unknown_key_names_key_file_and_suggestion(tmp_path):
    path = write(tmp_path, "[matching]\ndefault_treshold = 0.3\n")
    with pytest.raises(SettingsError) as error:
        load_settings(path, env={})
    message = str(error.value)
    assert "matching.default_treshold" in message
    assert str(path) in message
    assert "did you mean 'matching.default_threshold'" in message


def test_wrong_type_says_what_to_write(tmp_path):
    path = write(tmp_path, '[matching]\ndefault_threshold = "high"\n')
    with pytest.raises(SettingsError, match=r"must be a number, like default_threshold = 0.5"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    "toml, says",
    [
        ("strict_threshold = 0.3", "{file}, 'matching.strict_threshold' (0.3) is below"),
        ("broad_threshold = 0.5", "{file}, 'matching.default_threshold' (0.41) is below"),
    ],
)
def test_strictness_levels_out_of_order_are_refused(tmp_path, toml, says):
    assert says in refusal(tmp_path, f"[matching]\n{toml}\n")


def test_strictness_levels_may_be_equal(tmp_path):
    path = write(tmp_path, "[matching]\nstrict_threshold = 0.5\ndefault_threshold = 0.5\n")
    assert load_settings(path, env={}).matching.strict_threshold == 0.5


def test_unknown_feed_key(tmp_path):
    path = write(tmp_path, '[[feeds]]\nurl = "x"\nnmae = "y"\n')
    with pytest.raises(SettingsError, match=r"feeds\[0\].nmae.*did you mean 'feeds\[0\].name'"):
        load_settings(path, env={})


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="is not valid TOML"):
        load_settings(write(tmp_path, "[matching\n"), env={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_a_settings_file_that_is_not_utf8_gets_a_sentence(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_bytes("[matching]\n".encode("utf-16"))
    with pytest.raises(SettingsError, match="mine.toml is not UTF-8 text"):
        load_settings(path, env={})


@pytest.mark.parametrize(
    "feed, says",
    [
        ('url = "ftp://example.org/feed"', "'feeds[0].url' in {file} must be a web address"),
        ('url = ""', "'feeds[0].url' in {file} must be a web address"),
        (
            'url = "https://example.org/feed"\nkind = "weird"',
            "'feeds[0].kind' in {file} must be one of 'arxiv_listing'",
        ),
    ],
)
def test_a_feed_paperbot_cannot_read_is_refused_at_start(tmp_path, feed, says):
    assert says in refusal(tmp_path, f"[[feeds]]\n{feed}\n")


def test_feeds_at_web_addresses_and_paths_are_accepted(tmp_path):
    feeds = ["https://rss.arxiv.org/rss/cs.CL", "file:///srv/x.xml", "feeds/x.xml", "C:\\f.xml"]
    path = write(tmp_path, "".join(f"[[feeds]]\nurl = '{url}'\n" for url in feeds))
    assert [feed.url for feed in load_settings(path, env={}).feeds] == feeds


def test_missing_tokens_name_the_variable():
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        SlackSettings().require_for_run()
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET"):
        SlackSettings(bot_token="xoxb-1").require_for_run()
    SlackSettings(bot_token="xoxb-1", app_token="xapp-1").require_for_run()


def test_slack_api_base_url_gets_the_slash_the_sdk_needs():
    slack = SlackSettings.from_env({"SLACK_API_BASE_URL": "http://127.0.0.1:9000/api"})
    assert slack.api_base_url == "http://127.0.0.1:9000/api/"
    assert SlackSettings.from_env({}).api_base_url == ""


@pytest.mark.parametrize(
    "url", ["notaurl", "ftp://slack.com/api/", "http://[::1", "http://127.0.0.1:abc/api/"]
)
def test_a_slack_api_base_url_that_is_not_a_web_address_is_a_settings_error(url):
    with pytest.raises(SettingsError, match="is not a web address"):
        SlackSettings.from_env({"SLACK_API_BASE_URL": url})
