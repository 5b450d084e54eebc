"""Discriminator rejection sampling (gankit/drs.py): the acceptance rule, exactness on known densities,
calibration to the log density ratio, determinism, and the config checks."""

import json
import math

import pytest
import torch
from torch import nn

from gankit.plugins import load_config
from gankit.drs import CalibratedScore, DRSRejectedError, RejectionSampler, calibrate, check_drs_config
from gankit.engine.trainer import train
from gankit.errors import ConfigError, GankitError
from gankit.sampling import LatentPrior


class Identity(nn.Module):
    """G(z) = z: p_g is the prior, N(0, 1) in 1D."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z


class LogRatio(nn.Module):
    """The exact log p_d / p_g for p_d = N(mu, s^2), p_g = N(0, 1) (bounded since s < 1)."""

    def __init__(self, mu: float, s: float) -> None:
        super().__init__()
        self.mu, self.s = mu, s

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x)).double()
        log_pd = -0.5 * ((x - self.mu) / self.s) ** 2 - math.log(self.s)
        log_pg = -0.5 * x ** 2
        return log_pd - log_pg


def test_acceptance_rule_is_exp_of_logit_minus_max_when_gamma_is_zero():
    sampler = RejectionSampler(Identity(), LogRatio(0.0, 0.5), LatentPrior(1), eps=1e-9)
    logit = torch.linspace(-30, 2.0, 101, dtype=torch.float64)
    p = torch.sigmoid(sampler._f(logit, 2.0))
    assert torch.allclose(p, torch.exp(logit - 2.0), rtol=1e-6, atol=1e-12)


def test_exact_rejection_sampling_draws_the_data_density():
    mu, s = 0.7, 0.5
    sampler = RejectionSampler(Identity(), LogRatio(mu, s), LatentPrior(1), burn_in=50_000)
    x = sampler.draw(20_000, seed=3).reshape(-1).double()
    assert abs(x.mean().item() - mu) < 4 * s / math.sqrt(20_000)
    assert abs(x.std().item() - s) < 0.02
    # the acceptance of exact rejection sampling is 1 / max(p_d / p_g) (the max is at x = mu / (1 - s^2))
    x_star = mu / (1 - s ** 2)
    max_ratio = math.exp(LogRatio(mu, s)(torch.tensor([x_star])).item())
    assert sampler.stats.acceptance == pytest.approx(1 / max_ratio, rel=0.03)
    assert sampler.stats.max_logit <= math.log(max_ratio) + 1e-9


def test_gamma_quantile_sets_strictness_and_sampling_is_deterministic():
    exact = RejectionSampler(Identity(), LogRatio(0.7, 0.5), LatentPrior(1))
    strict = RejectionSampler(Identity(), LogRatio(0.7, 0.5), LatentPrior(1), gamma_quantile=0.9)
    loose = RejectionSampler(Identity(), LogRatio(0.7, 0.5), LatentPrior(1), gamma_quantile=0.1)
    a = exact.draw(2000, seed=1)
    b = strict.draw(2000, seed=1)
    loose.draw(2000, seed=1)
    assert loose.stats.acceptance > exact.stats.acceptance > strict.stats.acceptance
    assert loose.stats.gamma < 0.0 == exact.stats.gamma < strict.stats.gamma
    assert b.std() < a.std()  # stricter keeps the samples nearest the ratio's peak
    assert torch.equal(a, exact.draw(2000, seed=1))
    assert not torch.equal(a, exact.draw(2000, seed=2))
    assert b.shape == (2000, 1)


def test_sampler_gives_up_when_d_rejects_nearly_everything():
    class Sharp(nn.Module):
        def forward(self, x):
            return 1000.0 * x.reshape(len(x))

    # Burn-in logits 1000 z: the largest sample alone is kept for sure, the rest with exp(-1000 gap):
    # about 1 in 1000 accepted, so with up to 3 draws per wanted sample DRS gives up after the burn-in ...
    sampler = RejectionSampler(Identity(), Sharp(), LatentPrior(1), burn_in=1000, max_draws_per_sample=3)
    with pytest.raises(DRSRejectedError, match=r"would keep 1.00e-03 of G's samples \(estimated on 1000 burn-in") as caught:
        sampler.draw(100, seed=0)
    assert isinstance(caught.value, GankitError)
    assert sampler.stats.drawn == 0 and sampler.stats.acceptance == pytest.approx(1e-3, rel=1e-6)
    # ... and with up to 2000 it tries, then stops once it has drawn more than 2000 per wanted sample.
    sampler = RejectionSampler(Identity(), Sharp(), LatentPrior(1), burn_in=1000, max_draws_per_sample=2000,
                               batch_size=10_000)
    with pytest.raises(DRSRejectedError, match="kept .* of .* samples \\(needed 100\\)"):
        sampler.draw(100, seed=0)
    stats = sampler.stats
    assert stats.drawn == 210_000 and stats.accepted < 100 and stats.acceptance == stats.accepted / 210_000
    with pytest.raises(ConfigError, match="gamma_quantile"):
        RejectionSampler(Identity(), Sharp(), LatentPrior(1), gamma_quantile=1.0)


def test_calibration_learns_the_log_ratio_and_leaves_d_alone():
    # real ~ N(1, 1), G(z) = z ~ N(0, 1): log p_d / p_g = x - 1/2, which a linear D can express exactly.
    torch.manual_seed(0)
    D = nn.Linear(1, 1)
    before = {k: v.clone() for k, v in D.state_dict().items()}
    real = torch.randn(20_000, 1, generator=torch.Generator().manual_seed(5)) + 1.0
    score, cal = calibrate(D, Identity(), LatentPrior(1), real, steps=1500, batch_size=2048, lr=1e-2, seed=0)
    x = torch.linspace(-2, 3, 11).unsqueeze(1)
    with torch.no_grad():
        assert torch.allclose(score(x), x.squeeze(1) - 0.5, atol=0.05)
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())
    assert isinstance(score, CalibratedScore) and cal.steps == 1500 and 0.5 < cal.final_accuracy < 0.8
    # the logistic loss at the optimum is 2 log 2 - 2 JSD(p_d, p_g), the JSD here by quadrature
    t = torch.linspace(-12, 13, 200_001, dtype=torch.float64)
    p, q = torch.exp(-0.5 * t ** 2), torch.exp(-0.5 * (t - 1) ** 2)  # the common 1/sqrt(2 pi) cancels in the logs
    m = (p + q) / 2
    jsd = 0.5 * torch.trapezoid((p * torch.log(p / m) + q * torch.log(q / m)) / math.sqrt(2 * math.pi), t).item()
    assert jsd == pytest.approx(0.11142, abs=1e-4)  # scipy quadrature of the same integral: 0.111421
    assert cal.final_loss == pytest.approx(2 * math.log(2) - 2 * jsd, abs=0.03)  # minibatch noise of the last 100 steps
    again, cal2 = calibrate(D, Identity(), LatentPrior(1), real, steps=1500, batch_size=2048, lr=1e-2, seed=0)
    assert torch.equal(again.scale, score.scale) and cal2 == cal


def test_a_packed_d_scores_each_sample_as_a_pack_of_copies_and_calibrates_to_the_log_ratio():
    from gankit.regularizers.packing import Packed

    # A packed D of 2 samples with the PacGAN-optimal form l(x1) + l(x2): a copy of x scores 2 l(x) ...
    torch.manual_seed(0)
    D = Packed(nn.Linear(2, 1), 2)
    with torch.no_grad():
        D.inner.weight.copy_(torch.tensor([[0.5, 0.5]]))
        D.inner.bias.fill_(-0.5)
    x = torch.linspace(-2, 3, 11).unsqueeze(1)
    with torch.no_grad():
        assert torch.allclose(CalibratedScore(D)(x), x.squeeze(1) - 0.5)
        assert D(x.repeat_interleave(2, dim=0)).numel() == 11  # the pack of two copies, one score each
    # ... and calibration against G(z) = z, real ~ N(1, 1) learns log p_d / p_g = x - 1/2 per sample.
    real = torch.randn(20_000, 1, generator=torch.Generator().manual_seed(5)) + 1.0
    D = Packed(nn.Linear(2, 1), 2)
    score, _ = calibrate(D, Identity(), LatentPrior(1), real, steps=1500, batch_size=2048, lr=1e-2, seed=0)
    with torch.no_grad():
        assert torch.allclose(score(x), x.squeeze(1) - 0.5, atol=0.05)
    assert RejectionSampler(Identity(), score, LatentPrior(1), burn_in=500).draw(300, seed=0).shape == (300, 1)


def test_config_checks_name_what_to_fix(tiny_vector_config, tmp_path):
    base = tiny_vector_config.to_dict()
    assert load_config(base=base, overrides=["eval.drs=true"]).eval.drs.enabled
    check_drs_config(load_config(base=base, overrides=["eval.drs=true", "reg.pack=2"]))  # a packed D is fine
    with pytest.raises(ConfigError, match="minibatch discrimination"):
        check_drs_config(load_config(base=base, overrides=["eval.drs=true", "reg.minibatch_discrimination=4"]))
    with pytest.raises(ConfigError, match="model=gan"):
        check_drs_config(load_config(overrides=["model=cgan", "data.name=digits", "eval.drs=true"]))
    # refused before anything is written: no run folder is left behind
    with pytest.raises(ConfigError, match="eval.drs"):
        train(load_config(base=base, overrides=["eval.drs=true", "reg.minibatch_discrimination=4"]),
              run_dir=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_training_with_drs_writes_a_fingerprinted_second_figure(tiny_vector_config, tmp_path):
    cfg = load_config(base=tiny_vector_config.to_dict(),
                      overrides=["eval.at_end=true", "eval.n=200", "eval.drs.enabled=true", "eval.drs.calibration_steps=20",
                                 "eval.drs.burn_in=500"])
    result = train(cfg, run_dir=tmp_path / "r", progress=False)
    saved = json.loads((tmp_path / "r" / "quality_drs.json").read_text())
    fp = saved["fingerprint"]
    assert saved["kind"] == "modes" and fp["n_generated"] == 200 and fp["generator"] == "G_ema"
    assert fp["sampler"]["calibration"]["steps"] == 20 and fp["sampler"]["burn_in"] == 500
    assert 0.0 < fp["sampler"]["drs_acceptance"] <= 1.0 and fp["sampler"]["drs_accepted"] == 200
    assert result.quality_drs.to_dict()["values"] == saved["values"]
    assert "sampler" not in result.quality.fingerprint  # the plain figure is G's own samples


def test_training_keeps_its_plain_figure_when_drs_rejects_everything(tiny_vector_config, tmp_path, capsys,
                                                                     monkeypatch):
    import gankit.engine.trainer as trainer

    def give_up_early(*args):  # not even one draw per wanted sample allowed: DRS gives up after the burn-in
        sampler = sampler_for(*args)
        sampler.max_draws_per_sample = 0
        return sampler

    sampler_for = trainer.sampler_for
    monkeypatch.setattr(trainer, "sampler_for", give_up_early)
    cfg = load_config(base=tiny_vector_config.to_dict(),
                      overrides=["eval.at_end=true", "eval.n=200", "eval.drs.enabled=true",
                                 "eval.drs.calibration_steps=5", "eval.drs.burn_in=100"])
    result = train(cfg, run_dir=tmp_path / "r", progress=False)
    saved = json.loads((tmp_path / "r" / "quality_drs.json").read_text())
    assert result.quality.kind == "modes" and (tmp_path / "r" / "quality.json").is_file()
    assert saved["kind"] == result.quality_drs.kind == "none" and saved["values"] == {}
    assert saved["fingerprint"]["sampler"]["drs_drawn"] == 0 and saved["fingerprint"]["generator"] == "G_ema"
    assert "rejects nearly all" in saved["fingerprint"]["reason"]
    assert "with DRS: no quality figure: no samples to score: DRS would keep" in capsys.readouterr().out


def test_sample_and_eval_with_drs_from_the_command_line(tiny_vector_config, tmp_path, capsys):
    from gankit.cli import main

    run = tmp_path / "run"
    train(tiny_vector_config, run_dir=run, progress=False)
    assert main(["sample", str(run), "--drs", "--ema", "--n", "300", "--out", str(tmp_path / "drs.png")]) == 0
    assert (tmp_path / "drs.png").stat().st_size > 0 and "wrote" in capsys.readouterr().out
    assert main(["eval", str(run), "--drs", "--ema", "--metrics", "modes,dstar,entropy", "--n", "300"]) == 0
    results = json.loads((run / "eval.json").read_text())["results"]
    assert results["modes"]["fingerprint"]["sampler"]["drs_accepted"] == 300
    assert "sampler" not in results["dstar"]["fingerprint"]  # D* is checked against G itself
    # without --drs the same metrics score G's own samples: no sampler, another entropy, the same D* check
    assert main(["eval", str(run), "--ema", "--metrics", "dstar,entropy", "--n", "300"]) == 0
    plain = json.loads((run / "eval.json").read_text())["results"]
    assert "sampler" not in plain["entropy"]["fingerprint"] and "sampler" in results["entropy"]["fingerprint"]
    assert plain["entropy"]["values"] != results["entropy"]["values"]
    assert plain["dstar"]["values"] == results["dstar"]["values"]


def test_drs_with_minibatch_discrimination_exits_2_with_one_line(tiny_vector_config, tmp_path, capsys):
    from gankit.cli import main

    run = tmp_path / "mbd"
    train(load_config(base=tiny_vector_config.to_dict(), overrides=["reg.minibatch_discrimination=4"]), run_dir=run,
          progress=False)
    capsys.readouterr()
    assert main(["sample", str(run), "--drs", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--drs" in err and "minibatch discrimination" in err
    assert not (tmp_path / "x.png").exists()


def test_drs_can_be_switched_on_when_resuming(tiny_vector_config, tmp_path):
    run = tmp_path / "run"
    train(load_config(base=tiny_vector_config.to_dict(), overrides=["train.checkpoint_every=10"]), run_dir=run,
          progress=False)
    assert not (run / "quality_drs.json").exists()
    result = train(resume=run, overrides=["train.steps=30", "eval.at_end=true", "eval.n=100", "eval.drs.enabled=true",
                                          "eval.drs.calibration_steps=5", "eval.drs.burn_in=200"], progress=False)
    assert result.step == 30 and (run / "quality_drs.json").exists()


def test_calibrated_score_scores_the_images_themselves_under_diffaugment():
    """DRS needs log p_data/p_g of x, so a D trained on DiffAugment's T(x) is calibrated and scored without T."""
    from gankit.nets.dcgan import DCGANDiscriminator
    from gankit.regularizers.diffaugment import Augmented

    torch.manual_seed(0)
    inner = DCGANDiscriminator(1, 8, 8)
    score = CalibratedScore(Augmented(inner, ["translation", "cutout"])).train()
    x = torch.randn(6, 1, 8, 8)
    assert not any(isinstance(m, Augmented) for m in score.modules())
    torch.testing.assert_close(score(x), inner(x).reshape(6), rtol=0, atol=0)  # scale 1, bias 0 at the start
