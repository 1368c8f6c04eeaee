"""The learned second stage: training is deterministic, the file is small and
checked, and the whole detector reads long messages whole."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bot.run.cli import main
from nlp.corpus import NO_CATEGORY, CorpusError, held_out, load_corpus, read_batch, training_rows
from nlp.detection import CATEGORIES
from nlp.model import DEFAULT_MODEL_PATH, ModelError, TextModel
from nlp.urgency import NO_URGENCY

FILLER = "今天天气还可以，下午去菜市场买了点青菜和豆腐，回来路上碰到老同学聊了几句家常。"


def test_pingan_train_gives_byte_for_byte_the_model_the_repository_ships(tmp_path) -> None:
    # Twice the same data, twice the same file: the shipped model was written by
    # an earlier `pingan train` on another machine, and this run must give it
    # byte for byte. (One run, not two side by side: with the converged solver
    # a run takes 4-5 minutes of two cores' time.)
    out = tmp_path / "model.bin"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "train", "--out", str(out)], capture_output=True, text=True, timeout=1500
    )
    assert run.returncode == 0, run.stderr
    assert "已训练" in run.stdout
    assert out.read_bytes() == DEFAULT_MODEL_PATH.read_bytes()
    # The file trained from the repository's data is usable as it stands.
    model = TextModel.load(out)
    assert model.score("桥下面有个孩子在水里扑腾") is not None


def test_the_heads_are_fitted_to_their_optimum() -> None:
    # With scikit-learn's default tolerance lbfgs stopped the report head of
    # b01-b175 after 37 iterations, far from its optimum, and which batches were
    # added decided where: one round of new data cut the sealed reports the model
    # was sure of by 4%. Fitted as `pingan train` fits them, the heads must be
    # where a much tighter solver puts them (on six batches: 6.5% and 8.5% of the
    # weights' sum away at the default, 0.1% at solver_tol).
    import numpy as np

    from nlp import train

    rows = [r for r in load_corpus() if r.batch in ("b01", "b02", "b03", "b04", "b05", "b06")]
    data = train.samples(training_rows(rows))
    vec = train.Vectorizer([s.text for s in data])
    for head in (train.report_head, train.urgency_head):
        fitted, _ = head(vec, data, dict(train.DEFAULTS))
        optimum, _ = head(vec, data, dict(train.DEFAULTS, solver_tol=1e-10))
        assert np.abs(fitted - optimum).sum() <= 0.01 * np.abs(optimum).sum(), head.__name__


def test_the_shipped_model_is_small_and_loads() -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size <= 20 * 1024 * 1024
    model = TextModel.load()
    assert set(model.header["trained_on"]) >= {"group_messages", "lccc_chat"}


def test_weights_at_any_offset_in_the_file_are_read_aligned(tmp_path) -> None:
    # The weights follow the vocabulary, so their offset is whatever its UTF-8
    # length makes it; unaligned float32 rows send numpy down a path that made
    # the whole detector 80% slower. Both offsets give the same scores.
    import numpy as np

    from nlp.model import HEADS, write_model

    weights = np.arange(3 * len(HEADS), dtype=np.float32).reshape(3, len(HEADS)) / 10
    biases = np.zeros(len(HEADS), dtype=np.float32)
    scores = []
    for vocabulary in (["着火", "打架", "火"], ["着火", "打架", "火了"]):  # one byte apart: one offset is odd
        path = tmp_path / f"m{len(vocabulary[-1])}.bin"
        write_model(path, vocabulary, weights, biases, {"thresholds": {}})
        model = TextModel.load(path)
        model._build()
        assert model._weights.flags.aligned and model._biases.flags.aligned
        scores.append(model._full("打架", (0, 2)).report)
    assert scores[0] == scores[1]


def test_half_precision_weights_score_as_the_float32_ones_they_round(tmp_path) -> None:
    # `pingan train` writes float16 weights (the header says "f2") to stay under
    # 20 MB; a file of float32 weights (models before it) still loads.
    import numpy as np

    from nlp.model import HEADS, write_model

    vocabulary = ["着火", "打架", "火"]
    weights = (np.arange(3 * len(HEADS), dtype=np.float32).reshape(3, len(HEADS)) - 20) / 8  # exact in float16
    biases = np.linspace(-1, 1, len(HEADS), dtype=np.float32)
    sizes, verdicts = [], []
    for kind in ("f4", "f2"):
        path = tmp_path / f"{kind}.bin"
        write_model(path, vocabulary, weights, biases, {"thresholds": {}, "weights": kind})
        sizes.append(path.stat().st_size)
        model = TextModel.load(path)
        model._build()
        assert model._weights.dtype == np.float32 and model._weights.flags.aligned
        verdict = model._full("楼下打架着火了", (0, 7))
        verdicts.append((verdict.report, verdict.urgent, verdict.category, verdict.number_probs))
    assert verdicts[0] == verdicts[1]
    assert sizes[0] - sizes[1] == weights.size * 2


def _scorers() -> tuple[TextModel, TextModel]:
    compiled, reference = TextModel.load(), TextModel.load()
    reference.compiled = False
    compiled._build()
    reference._build()
    return compiled, reference


def test_the_installed_package_scores_with_the_compiled_sums() -> None:
    # `pip install` builds nlp/_ngram.c; without it the detector runs at ~60% of its speed.
    compiled, reference = _scorers()
    assert compiled._scorer is not None and reference._scorer is None


def test_the_compiled_sums_are_those_of_the_python_reference() -> None:
    from nlp.features import prepare

    compiled, reference = _scorers()
    texts = [prepare(r.text) for r in load_corpus()[::40]]
    texts += ["", "a", "火", "着火了", "𠀀𠀁𠀂着火了🔥", "ab" * 500, "楼下" * 2000]
    for text in texts:
        rows = reference._grams.rows(text)
        n, *sums = compiled._scorer.sums(text)
        assert n == len(rows), text
        for head, total in enumerate(sums):
            expected = sum(float(reference._weights[r, head]) for r in rows)
            assert total == pytest.approx(expected, rel=1e-9, abs=1e-9), (text, head)
        # The verdicts the detector acts on agree to the last digit that matters.
        a, b = compiled._full(text, (0, len(text))), reference._full(text, (0, len(text)))
        assert (a.category, a.numbers(0.5)) == (b.category, b.numbers(0.5))
        assert a.report == pytest.approx(b.report, abs=1e-12) and a.urgent == pytest.approx(b.urgent, abs=1e-12)
        assert compiled.past_gate(text) == pytest.approx(reference.past_gate(text), abs=1e-12)


def test_the_compiled_scorer_refuses_weights_of_the_wrong_size() -> None:
    from nlp import _ngram

    with pytest.raises(ValueError, match="float32"):
        _ngram.Scorer(["火", "着火"], b"\0" * 4, 13)
    scorer = _ngram.Scorer(["火", "着火", "着火了了"], b"\0\0\x80\x3f" * 3, 1)  # 1.0f each; 4 chars never match
    assert scorer.sums("着火了") == (2, 2.0)
    with pytest.raises(IndexError):
        scorer.sums("火", (1,))


def test_a_damaged_model_file_is_one_line_naming_it(tmp_path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(DEFAULT_MODEL_PATH.read_bytes()[:5000])
    with pytest.raises(ModelError) as err:
        TextModel.load(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    result = CliRunner().invoke(main, ["classify", "--model", str(bad)], input="着火了\n")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_classify_prints_the_tier(classifier, monkeypatch) -> None:
    import nlp.cli

    monkeypatch.setattr(nlp.cli, "load_detector", lambda *a: classifier)
    lines = "楼下两个人吵起来了，快打架了\n今天天气不错\n\n"
    out = [json.loads(x) for x in CliRunner().invoke(main, ["classify"], input=lines).output.splitlines()]
    assert [o["tier"] for o in out] == ["flagged", None, None]
    assert out[0]["category"] == "dispute" and out[1]["flagged"] is False


def test_a_report_in_the_middle_of_a_long_message_is_found(classifier) -> None:
    """Character 50,000 of 100,000: both stages read the whole message."""
    padding = (FILLER * 2000)[:50_000]
    text = padding + "刚才三栋楼下有人拿刀砍人了！" + padding
    result = classifier.detect(text)
    assert result.flagged and result.urgent and "110" in result.numbers


def test_a_report_at_the_end_of_a_long_message_is_found(classifier) -> None:
    text = (FILLER * 200) + "对了，刚才看到北门那边浓烟滚滚，好像是着火了"
    result = classifier.detect(text)
    assert result.flagged and result.category == "fire" and "119" in result.numbers


def test_a_long_harmless_message_is_not_flagged(classifier) -> None:
    assert not classifier.detect(FILLER * 3000).flagged


def test_the_corpus_keeps_every_batch_origin_and_the_held_out_chat() -> None:
    rows = load_corpus()
    assert all(r.batch and r.source for r in rows)
    chat = [r for r in rows if r.batch == "lccc_chat"]
    kept = training_rows(rows)
    assert len(rows) - len(kept) == sum(held_out(r.text) for r in chat) > 0
    assert not any(r.batch == "lccc_chat" and held_out(r.text) for r in kept)
    reports = [r for r in rows if r.positive]
    assert {r.label for r in reports} == set(CATEGORIES) | {NO_CATEGORY}


def test_a_bad_corpus_file_is_one_line(tmp_path) -> None:
    bad = tmp_path / "x01.tsv"
    bad.write_text("text\tlabel\tsource\turgent\n有人着火\tfire\tx:1\t999\n", encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        read_batch(bad)
    assert "x01.tsv:2" in str(err.value)
    result = CliRunner().invoke(main, ["train", "--corpus", str(tmp_path), "--out", str(tmp_path / "m.bin")])
    assert result.exit_code == 2 and "训练数据错误" in result.output


def test_the_register_of_a_row_comes_from_its_source() -> None:
    from nlp.corpus import Example

    def formal(source: str) -> bool:
        return Example("…", "none", "b", source, ()).formal

    assert formal("b27:official-gridworker") and formal("notice:batch-2026-11") and formal("b29:formal-call-script")
    assert not formal("b01:elderly-voice") and not formal("b27:publicity-chat") and not formal("b29:chat-relay")
    assert not formal("lccc:thu-coai/CDial-GPT@8106486:data/toy_train.txt#L1.0")


def test_the_model_overrules_a_long_flag_only_in_chat_register(classifier) -> None:
    # A long message with a danger word that the model is nearly sure reports
    # nothing: a resident's story is silenced, pasted or official text (a scam
    # script, a court record) keeps the lexicon's flag, and a short message
    # follows the chat rule (lexicon_veto) whatever its register.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.model import ModelVerdict

    lexicon = classifier.lexicon.detect("楼道里有人在给电动车充电")
    assert lexicon.flagged
    policy = replace(classifier.policy, lexicon_veto=0.6, veto_chars=50, long_veto=0.2, chat_register=0.1)

    def decide(length: int, report: float, register: float, p=policy, lex=lexicon):
        verdict = ModelVerdict(report, lex.category or "fire", 0.9, 0.0, (0.0, 0.0, 0.0), (0, 10), "", register)
        return classifier.decide(Evidence(lex, NO_URGENCY, verdict, length), p)

    assert not decide(120, report=0.05, register=0.02).flagged
    assert decide(120, report=0.05, register=0.02, p=replace(policy, long_veto=0.0)).flagged  # without the rule
    assert decide(120, report=0.05, register=0.6).flagged  # formal text: the lexicon stands
    assert decide(120, report=0.3, register=0.02).flagged  # not sure enough there is no report
    assert not decide(40, report=0.3, register=0.9).flagged  # chat length: lexicon_veto, register or not
    # A scam message forwarded bare reads as chat ("我是你大姑，帮我转点钱"): fraud keeps its flag.
    scam = classifier.lexicon.detect("我是你大姑，手术费还差一点，你直接转13000到我这个卡上，卡号发你")
    assert scam.flagged and scam.category == "fraud"
    assert decide(120, report=0.05, register=0.02, lex=scam).flagged


def test_a_formal_text_that_speaks_to_the_group_is_overruled_like_chat(classifier) -> None:
    # Publicity pasted under a 【header】 or a letter to 各位 reads as official to
    # the register head, yet it is talk in the group, not a court record: where
    # the model is nearly sure it reports nothing, its doubt wins as in chat.
    from dataclasses import replace

    from nlp.classifier import TO_GROUP
    from nlp.model import ModelVerdict

    notice = ("【县消防救援大队】夏季高温，电动车电池易发生热失控，请勿在室内、楼道、安全出口等处停放充电，"
              "请勿私拉电线飞线充电，充电时间不宜过长，不要充电过夜。")
    court = ("2016年3月7日17时许，被告人庄某在本市某小区楼道内，因琐事与被害人赖某发生口角，后用拳头殴打被害人"
             "头部致其受伤，经鉴定已构成轻伤，案发后被告人庄某到公安机关投案，文号【2016】第0944号。")
    policy = replace(classifier.policy, lexicon_veto=0.3, veto_chars=50, long_veto=0.5, chat_register=0.3)

    def decide(text: str, p=policy):
        ev = classifier.evidence(text)
        assert ev.lexicon.flagged, text
        formal = ModelVerdict(0.02, ev.lexicon.category or "fire", 0.9, 0.0, (0.0, 0.0, 0.0), (0, 10), "", 0.95)
        return classifier.decide(replace(ev, model=formal), p)

    assert classifier.evidence(notice).to_group and not classifier.evidence(court).to_group
    assert not decide(notice).flagged
    assert decide(court).flagged  # a court record speaks to no group: the lexicon stands
    assert TO_GROUP.search("各位老表，我是村里的护林员") and not TO_GROUP.search("被告人在其申请的信用卡上")


def test_a_story_of_a_scam_is_chat_the_scam_itself_speaks_to_its_victim(classifier) -> None:
    # Both read as chat to the model and both are long fraud flags it doubts:
    # the forwarded scam says 你 and keeps its flag, a resident's story of a
    # scam that addresses no one is overruled like any other chat story.
    from dataclasses import replace

    from nlp.classifier import Evidence, addressed
    from nlp.model import ModelVerdict

    scam = "我是你大姑，我有个朋友现在脑出血了，手术费用还没到账，你先直接把13000转到我建设卡上，等钱到了再还你"
    story = "前两天我妈也差点被骗，一个自称老同学的人打电话来借钱给孩子看病，我妈问他班主任叫什么，对方支支吾吾就挂了，回来还挺得意"
    policy = replace(classifier.policy, lexicon_veto=0.3, veto_chars=50, long_veto=0.5, chat_register=0.3)

    def decide(text: str, report: float = 0.05, p=policy):
        lex = classifier.lexicon.detect(text)
        assert lex.flagged and lex.category == "fraud"
        verdict = ModelVerdict(report, "fraud", 0.9, 0.0, (0.0, 0.0, 0.0), (0, 10), "", 0.02)
        return classifier.decide(Evidence(lex, NO_URGENCY, verdict, len(text), addressed(text)), p)

    assert addressed(scam) and not addressed(story)
    # Warning the group (你们) or quoting the caller (他说你…) is still a story.
    warning = "刚才骗子打电话说我的卡在外地消费了两万，他说你要赶紧冻结，我说我自己去柜台，挂了，你们也小心点"
    assert not addressed(warning) and not decide(warning).flagged
    assert addressed("您好，您的账户涉嫌洗钱") and addressed("我跟你说个事，先转五千给我")
    # Nor is advice in general (让你…, 叫你…), nor a question told (我问他你…).
    advice = "社区民警来讲反诈，我问他你们天天讲有用吗，他说凡是电话里让你把钱转到安全账户的百分之百是骗子，叫你开屏幕共享的也是"
    assert not addressed(advice) and not decide(advice).flagged
    assert not addressed("我问她你怎么想到的") and addressed("你怎么想到的")
    assert decide(scam).flagged
    assert not decide(story).flagged
    assert decide(story, report=0.6).flagged  # the model is not sure enough there is no report
    # A long chat story is overruled below long_veto even where a short message would not be.
    assert not decide(story, report=0.4).flagged
    assert decide(story, report=0.4, p=replace(policy, long_veto=0.3)).flagged


def test_a_long_story_with_a_danger_word_is_chat_a_court_record_is_not(classifier) -> None:
    # The shipped model on fresh text: a resident's story of a drama and of a
    # barbecue are overruled, a court record (which the development floors
    # require flagged) is formal register and keeps the lexicon's flag.
    from dataclasses import replace

    from nlp.classifier import Classifier

    stories = [
        "昨天晚上追剧追到两点，那个宫斗剧里的皇后又下毒又放火，把我气得不行，我老公在旁边说我比剧里的人还激动，"
        "今天上班一直打哈欠，主管还问我是不是没睡好",
        "我家楼下新开了一家烧烤店，老板是东北人，特别实在，羊肉串十块钱一把，我们几个同事下班去吃，"
        "喝了几瓶啤酒聊到半夜，差点打起来是因为争着买单，最后还是老板说这顿他请了，哈哈",
    ]
    record = "经审理查明：2022年8月某日，被告人刘某因宅基地纠纷与邻居张某发生争执，后刘某持木棍将张某头部打伤，经鉴定为轻伤二级。"
    without = Classifier(classifier.lexicon, classifier.model, classifier.urgency, replace(classifier.policy, long_veto=0.0))
    any_register = Classifier(classifier.lexicon, classifier.model, classifier.urgency, replace(classifier.policy, chat_register=1.01))
    for story in stories:
        assert not classifier.detect(story).flagged
        assert without.detect(story).flagged
    assert classifier.detect(record).flagged and classifier.detect(record).category == "dispute"
    assert not any_register.detect(record).flagged


def test_naive_bayes_scaling_favours_the_telling_n_grams() -> None:
    # An n-gram seen only in reports gets a positive ratio, one seen only in
    # chat a negative one, one seen as often in both about none; alpha 0 is off.
    from scipy.sparse import csr_matrix

    from nlp.train import nb_scale

    # columns: only-in-reports, only-in-chat, everywhere
    X = csr_matrix([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1]], dtype=float)
    y = [True, True, False, False]
    ratios = nb_scale(X, y, 0.25)
    assert ratios[0] > 1 and ratios[1] < -1 and abs(ratios[2]) < 0.01
    assert nb_scale(X, y, 0.0) is None


def test_a_few_characters_are_never_judged_by_the_model_alone(classifier) -> None:
    # "往上走": three characters the model was sure were urgent. Below
    # model_chars the model alone neither suspects nor makes urgent; the same
    # verdict on a message long enough does.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.detection import NOT_FLAGGED
    from nlp.model import ModelVerdict

    policy = replace(classifier.policy, model_chars=5)
    urgent = ModelVerdict(0.95, "security", 0.9, 0.9, (0.9, 0.0, 0.0), (0, 3), "")
    calm = replace(urgent, urgent=0.0)

    def decide(length: int, verdict: ModelVerdict, p=policy):
        return classifier.decide(Evidence(NOT_FLAGGED, NO_URGENCY, verdict, length), p)

    assert not decide(4, urgent).flagged and not decide(4, calm).flagged
    assert decide(5, urgent).urgent and decide(5, urgent).numbers == ("110",)
    assert decide(5, calm).tier == "suspected"
    assert decide(4, urgent, replace(policy, model_chars=0)).urgent  # without the rule
    assert classifier.policy.model_chars == 5  # the shipped model's threshold


def test_the_model_never_overrules_a_lexicon_flag_while_it_hears_a_life_at_risk(classifier) -> None:
    # The lexicon found a report the model doubts (a missing elder told at the
    # end of a long New Year story): its report head alone would silence it,
    # its urgency head keeps it.
    from dataclasses import replace

    from nlp.classifier import Evidence
    from nlp.model import ModelVerdict

    lexicon = classifier.lexicon.detect("我家老人走丢了，穿灰色外套，有人看到吗")
    assert lexicon.flagged and lexicon.category == "missing"
    policy = replace(classifier.policy, lexicon_veto=0.3, signal_keep=0.5)

    def decide(urgent: float, length: int = 30, p=policy):
        verdict = ModelVerdict(0.1, "missing", 0.9, urgent, (0.9, 0.0, 0.0), (0, 10), "")
        return classifier.decide(Evidence(lexicon, NO_URGENCY, verdict, length), p)

    assert not decide(0.2).flagged  # the model is sure it is chatter
    assert decide(0.8).flagged
    assert decide(0.8, length=600).flagged  # a long chat story too
    assert not decide(0.8, p=replace(policy, signal_keep=1.01)).flagged  # without the rule


def test_the_urgency_head_learns_that_real_chat_is_not_urgent() -> None:
    # Written urgent reports say a child is "在他们手上" (taken); on Weibo the same
    # words are banter. Trained on real chat as not urgent, the urgency head
    # hears that banter as less urgent than when it only read written batches.
    from nlp.corpus import Example
    from nlp.crossval import train_model

    places = ("菜市场", "学校门口", "村口", "河边", "3栋楼下", "公交站", "网吧", "超市")
    rows = [Example(f"我儿子在{p}被人抓走了，人在他们手上，快报警", "missing", "w1", "w1:parent", ("110",)) for p in places]
    rows += [Example(f"{p}那边的路灯坏了好几天了，晚上很黑", "traffic", "w1", "w1:resident", ()) for p in places]
    rows += [Example(f"今天在{p}买了菜，价格还行", "none", "w1", "w1:chat", ()) for p in places]
    rows += [Example(f"哈哈你儿子的{p}照片在我们手上，请吃饭就还你", "none", "lccc_chat", "lccc:test", ()) for p in places]
    banter = "哈哈你的黑历史在我们手上"
    heard = {flag: train_model(rows, {"urgent_real_chat": flag}).score(banter, force=True).urgent for flag in (0, 1)}
    assert heard[1] < heard[0] - 0.2


def test_the_model_may_flag_what_the_lexicon_took_for_an_old_story_or_a_notice(classifier) -> None:
    # "我人在外地" reads to the lexicon as news from elsewhere and withdraws the
    # message; it is a sister at risk now. When the model is nearly sure it is a
    # report, the message opens a suspected case, or an urgent one when the
    # urgency head hears a life at risk; a reassurance ("已经扑灭了") opens no
    # suspected case, and only both at once outweigh it.
    from dataclasses import replace

    from nlp.classifier import Evidence, withdrawn
    from nlp.model import ModelVerdict

    text = "我姐说活着没意思，今天一天电话都打不通，她住在城西那个小区，我人在外地，急死了"
    lexicon = classifier.lexicon.detect(text)
    assert withdrawn(lexicon) and any(r.startswith("distant:") for r in lexicon.rules)
    policy = replace(classifier.policy, withdrawn_report=0.95, withdrawn_keep=0.3, withdrawn_urgent=1.01)

    def decide(report: float, urgent: float, lex=lexicon, p=policy):
        verdict = ModelVerdict(report, "missing", 0.8, urgent, (0.9, 0.0, 0.6), (0, len(text)), text)
        return classifier.decide(Evidence(lex, NO_URGENCY, verdict, len(text)), p)

    assert decide(0.97, 0.1).tier == "suspected" and decide(0.97, 0.1).category == "missing"
    assert decide(0.97, 0.8).urgent and decide(0.97, 0.8).numbers == ("110", "120")
    assert not decide(0.9, 0.8).flagged  # the model not sure enough
    assert not decide(0.97, 0.8, p=replace(policy, withdrawn_report=1.01)).flagged  # without the rule
    over = classifier.lexicon.detect("昨天5栋楼道里着火了，浓烟很大，已经扑灭了，大家放心")
    assert withdrawn(over) and not decide(0.97, 0.1, lex=over).flagged and not decide(0.9, 0.8, lex=over).flagged
    assert decide(0.97, 0.8, lex=over).urgent
    assert not classifier.detect("昨天5栋楼道里着火了，浓烟很大，已经扑灭了，大家放心").flagged


@pytest.mark.parametrize(
    "text",
    [
        "厨房油锅着火了，火已经灭了，可是我妈手臂烫得起泡，疼得直哭",  # the fire is out, the burn is not
        "楼下电动车着火，已经扑灭了，但是车主被烧伤了，躺在地上喊疼",
        "熏腊肉的棚子烧起来了，火蹿到屋檐上了，快来人",  # 熏腊肉 reassures about smoke, not about this
    ],
)
def test_a_reassurance_does_not_silence_a_life_the_model_hears_at_risk(classifier, text: str) -> None:
    from dataclasses import replace

    from nlp.classifier import reassured, withdrawn

    lexicon = classifier.lexicon.detect(text)
    assert withdrawn(lexicon) and reassured(lexicon)
    result = classifier.detect(text)
    assert result.urgent and "119" in result.numbers, result.rules
    # Without the rule (the model never outweighing a reassurance) it is silent.
    assert not classifier.decide(classifier.evidence(text), replace(classifier.policy, withdrawn_keep=1.01)).flagged


def test_the_urgency_head_weighs_written_hard_negatives_twice() -> None:
    # A written hard negative borrows the words of an urgent report ("楼下有人
    # 倒在地上" / "楼下有人倒在地上打滚，在拍抖音"); weighed twice, as in the
    # report head, it pulls the urgency head's verdict on such chatter lower.
    from nlp.corpus import Example
    from nlp.crossval import train_model

    places = ("菜市场", "学校门口", "村口", "河边", "3栋楼下", "公交站", "网吧", "超市")
    rows = [Example(f"{p}有人倒在地上，叫不醒，快打120", "security", "w1", "w1:resident", ("120",)) for p in places]
    rows += [Example(f"{p}那边的路灯坏了好几天了，晚上很黑", "traffic", "w1", "w1:resident", ()) for p in places]
    rows += [Example(f"{p}有人倒在地上打滚，在拍抖音，笑死", "none", "w1", "w1:joke", ()) for p in places[:3]]
    rows += [Example(f"今天在{p}买了菜，价格还行", "none", "lccc_chat", "lccc:test", ()) for p in places]
    joke = "广场上有人倒在地上打滚，在拍抖音"
    heard = {w: train_model(rows, {"urgent_hard_weight": w}).score(joke, force=True).urgent for w in (1.0, 2.0)}
    assert heard[2.0] < heard[1.0] - 0.05, heard


def test_a_report_without_a_category_teaches_urgency_but_not_the_category_head(tmp_path) -> None:
    # A collapse at home fits none of the eight categories; its writer labels it
    # `other`. The report and urgency heads learn it; the category head does not
    # learn that a collapse is 治安防范, as it did from a placeholder label.
    from nlp.corpus import Example
    from nlp.crossval import train_model

    places = ("菜市场", "学校门口", "村口", "河边", "3栋楼下", "公交站", "网吧", "超市")
    rows = [Example(f"{p}有个老人倒在地上叫不醒了，快来人", "other", "w1", "w1:resident", ("120",)) for p in places]
    rows += [Example(f"{p}有人在偷电瓶车的电瓶，撬了好几辆", "security", "w1", "w1:resident", ()) for p in places]
    rows += [Example(f"{p}那边的路灯坏了好几天了，晚上很黑", "traffic", "w1", "w1:resident", ()) for p in places]
    rows += [Example(f"今天在{p}买了菜，价格还行", "none", "w1", "w1:chat", ()) for p in places]
    placeholder = [Example(r.text, "security" if r.label == "other" else r.label, r.batch, r.source, r.urgent) for r in rows]
    collapse = "广场上有个老人倒在地上叫不醒了"
    learned = train_model(rows).score(collapse, force=True)
    assert learned.report > 0.5 and learned.urgent > 0.5 and learned.number_probs[2] > 0.5
    misled = train_model(placeholder).score(collapse, force=True)
    assert misled.category == "security" and misled.category_prob > learned.category_prob + 0.2, (learned, misled)
    # The corpus reads the label, and urgency with it.
    batch = tmp_path / "x02.tsv"
    batch.write_text("text\tlabel\tsource\turgent\n我爸在家里突然倒地了\tother\tx:1\t120\n", encoding="utf-8")
    row = read_batch(batch)[0]
    assert row.urgent == ("120",) and row.positive


def test_a_corpus_that_marks_nothing_urgent_still_trains() -> None:
    # The urgency gate is calibrated on urgent messages; with none it scores every window.
    from nlp.corpus import Example
    from nlp.crossval import train_model

    places = ("菜市场", "学校门口", "村口", "河边", "3栋楼下", "公交站", "网吧", "超市")
    rows = [Example(f"{p}有人在偷电瓶车的电瓶，撬了好几辆", "security", "w1", "w1:resident", ()) for p in places]
    rows += [Example(f"{p}那边的路灯坏了好几天了，晚上很黑", "traffic", "w1", "w1:resident", ()) for p in places]
    rows += [Example(f"今天在{p}买了菜，价格还行", "none", "w1", "w1:chat", ()) for p in places]
    model = train_model(rows)
    assert model.score("超市门口有人在偷电瓶", force=True).category == "security"
