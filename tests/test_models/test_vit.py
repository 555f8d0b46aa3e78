import pytest
import timm
import torch
from timm.layers.pos_embed_sincos import build_sincos2d_pos_embed
from timm.models.vision_transformer import VisionTransformer

from mmfocus.models import FoCusViT, get_2d_sincos_pos_embed
from mmfocus.models.converters import convert_timm_vit

TINY = dict(embed_dim=64, depth=2, num_heads=2, mlp_ratio=4.)


def _timm_tiny():
    return VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2,
                             num_heads=2, mlp_ratio=4., num_classes=10)


def test_sincos_matches_timm():
    ours = torch.from_numpy(get_2d_sincos_pos_embed(64, (4, 6)))
    ref = build_sincos2d_pos_embed([4, 6], dim=64, interleave_sin_cos=True)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=0)


def test_learned_pos_equals_timm_outputs():
    torch.manual_seed(0)
    ref = _timm_tiny().eval()
    ours = FoCusViT(arch=TINY, img_size=32, patch_size=8,
                    pos_embed='learned').eval()
    ours.load_state_dict(convert_timm_vit(ref.state_dict(), 'learned'))
    x = torch.randn(2, 3, 32, 32)
    tokens, cls = ours(x)
    feats = ref.forward_features(x)
    torch.testing.assert_close(cls, feats[:, 0])
    torch.testing.assert_close(tokens, feats[:, 1:])


def test_sincos_equals_timm_with_the_same_fixed_encoding():
    torch.manual_seed(0)
    ref = _timm_tiny().eval()
    state = convert_timm_vit(ref.state_dict(), 'sincos')
    assert 'pos_embed' not in state and 'head.weight' not in state
    ours = FoCusViT(arch=TINY, img_size=32, patch_size=8).eval()
    missing, unexpected = ours.load_state_dict(state, strict=False)
    assert missing == [] and unexpected == []
    with torch.no_grad():
        ref.pos_embed.copy_(ours.pos_embed)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(ours(x)[0], ref.forward_features(x)[:, 1:])
    # the fixed encoding is a buffer: not in the state dict
    assert 'pos_embed' not in ours.state_dict()


def test_deit_s_parameter_count_is_the_published_one():
    # DeiT-S: 22,050,664 parameters with its 1000-class head (mmpretrain
    # metafile / DeiT paper).
    vit = FoCusViT(arch='deit-s', pos_embed='learned')
    head = 384 * 1000 + 1000
    assert sum(p.numel() for p in vit.parameters()) + head == 22_050_664


def test_converter_on_random_deit_s_checkpoint(tmp_path):
    ref = timm.create_model('deit_small_patch16_224', pretrained=False).eval()
    src = tmp_path / 'deit.pth'
    torch.save({'model': ref.state_dict()}, src)
    from tools.model_converters.timm_vit_to_mmfocus import main
    dst = tmp_path / 'out.pth'
    main([str(src), str(dst), '--pos-embed', 'learned'])
    with pytest.raises(FileExistsError):
        main([str(src), str(dst)])
    vit = FoCusViT(arch='deit-s', pos_embed='learned',
                   pretrained=str(dst)).eval()
    vit.init_weights()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(vit(x)[0],
                                   ref.forward_features(x)[:, 1:])


def test_attention_map_matches_timm_explicit_attention():
    torch.manual_seed(0)
    vit = FoCusViT(arch=TINY, img_size=32, patch_size=8,
                   fused_attn=False).eval()
    captured = {}
    vit.blocks[-1].attn.attn_drop.register_forward_hook(
        lambda m, i, o: captured.setdefault('attn', i[0]))
    x = torch.randn(2, 3, 32, 32)
    _, _, attn = vit(x, return_attn=True)
    ref = captured['attn'][:, :, 0, 1:].mean(1)
    torch.testing.assert_close(attn, ref)


def test_bad_arch_and_missing_pretrained(tmp_path):
    with pytest.raises(KeyError, match='unknown FoCusViT arch'):
        FoCusViT(arch='huge-typo')
    vit = FoCusViT(arch=TINY, img_size=32, patch_size=8,
                   pretrained=str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        vit.init_weights()
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    vit = FoCusViT(arch=TINY, img_size=32, patch_size=8, pretrained=str(bad))
    with pytest.raises(RuntimeError, match='bad.pth'):
        vit.init_weights()


def test_conv_stem_matches_a_functional_reference():
    """stem='conv': torch.nn.functional conv/BN/ReLU layers written out by
    hand give the same tokens, on timm's row-major token grid."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    vit = FoCusViT(arch='test', img_size=32, patch_size=8, stem='conv')
    stem = vit.patch_embed
    assert stem.grid_size == (4, 4) and stem.num_patches == 16
    convs = [m for m in stem.proj if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in stem.proj if isinstance(m, torch.nn.BatchNorm2d)]
    # log2(8) = 3 stride-2 convs (D/4, D/2, D channels) + a 1x1 to D
    assert [c.out_channels for c in convs] == [16, 32, 64, 64]
    assert [c.stride for c in convs] == [(2, 2)] * 3 + [(1, 1)]
    for bn in bns:  # non-trivial running statistics
        bn.running_mean.uniform_(-.5, .5)
        bn.running_var.uniform_(.5, 2.)
    vit.eval()
    x = torch.randn(2, 3, 32, 32)
    y = x
    for conv, bn in zip(convs[:3], bns):
        y = F.conv2d(y, conv.weight, stride=2, padding=1)
        y = (y - bn.running_mean[None, :, None, None]) / torch.sqrt(
            bn.running_var[None, :, None, None] + bn.eps)
        y = F.relu(y * bn.weight[None, :, None, None] +
                   bn.bias[None, :, None, None])
    y = F.conv2d(y, convs[3].weight, convs[3].bias)
    ref = y.flatten(2).transpose(1, 2)
    with torch.no_grad():
        torch.testing.assert_close(stem(x), ref)
        tokens, cls = vit(x)
    assert tokens.shape == (2, 16, 64) and cls.shape == (2, 64)
    with pytest.raises(ValueError, match='power-of-2'):
        FoCusViT(arch='test', img_size=36, patch_size=6, stem='conv')
    with pytest.raises(ValueError, match='stem'):
        FoCusViT(arch='test', img_size=32, patch_size=8, stem='hybrid')


def test_register_tokens_equal_timm_registers():
    # timm's ViT with 4 registers and no position on prefix tokens is the
    # same computation (token order does not matter to attention).
    torch.manual_seed(0)
    ref = VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=2,
                            num_heads=2, mlp_ratio=4., num_classes=10,
                            reg_tokens=4, no_embed_class=True).eval()
    ours = FoCusViT(arch=TINY, img_size=32, patch_size=8,
                    num_registers=4).eval()
    with torch.no_grad():
        ref.reg_token.normal_()
        ref.pos_embed.copy_(ours.pos_embed[:, 1:])
    state = convert_timm_vit(ref.state_dict(), 'sincos')
    ours.load_state_dict(state)
    x = torch.randn(2, 3, 32, 32)
    tokens, cls = ours(x)
    feats = ref.forward_features(x)
    torch.testing.assert_close(cls, feats[:, 0])
    torch.testing.assert_close(tokens, feats[:, 5:])
    assert tokens.shape == (2, 16, 64)
    _, _, attn = ours(x, return_attn=True)
    assert attn.shape == (2, 16)
    with pytest.raises(ValueError, match='num_registers'):
        FoCusViT(arch=TINY, img_size=32, patch_size=8, num_registers=-1)


def test_register_backbone_loads_a_deit_file_without_registers(tmp_path):
    torch.manual_seed(0)
    state = convert_timm_vit(_timm_tiny().state_dict(), 'sincos')
    path = tmp_path / 'deit.pth'
    torch.save(state, path)
    vit = FoCusViT(arch=TINY, img_size=32, patch_size=8, num_registers=2,
                   pretrained=str(path))
    reg = vit.reg_token.detach().clone()
    vit.init_weights()
    torch.testing.assert_close(vit.blocks[0].attn.qkv.weight,
                               state['blocks.0.attn.qkv.weight'])
    torch.testing.assert_close(vit.reg_token.detach(), reg)  # kept
    # anything else missing still fails
    del state['norm.weight']
    torch.save(state, path)
    with pytest.raises(RuntimeError, match='missing'):
        FoCusViT(arch=TINY, img_size=32, patch_size=8, num_registers=2,
                 pretrained=str(path)).init_weights()


def test_distance_bias_is_minus_slope_times_grid_distance():
    from scipy.spatial.distance import cdist

    from mmfocus.models.backbones import distance_attn_bias
    bias = distance_attn_bias((3, 4), [1.0, 0.25], num_prefix=1,
                              num_suffix=2)
    assert bias.shape == (1, 2, 15, 15) and bias.dtype == torch.float32
    yx = [(y, x) for y in range(3) for x in range(4)]  # row-major patches
    ref = torch.from_numpy(cdist(yx, yx)).float()
    torch.testing.assert_close(bias[0, 0, 1:13, 1:13], -ref)
    torch.testing.assert_close(bias[0, 1, 1:13, 1:13], -0.25 * ref)
    # class token (0) and registers (13, 14): no bias either way
    for i in (0, 13, 14):
        assert not bias[..., i, :].any() and not bias[..., :, i].any()
    assert bias[0, 0, 1, 12].item() == pytest.approx(-(2 ** 2 + 3 ** 2) ** .5)


def test_distance_bias_makes_attention_local():
    # one block, steep slopes: a patch sees itself and the class token only,
    # so changing a far patch's pixels leaves its token as it was
    torch.manual_seed(0)
    arch = dict(embed_dim=64, depth=1, num_heads=2, mlp_ratio=2.)
    local = FoCusViT(arch=arch, img_size=32, patch_size=8,
                     attn_distance_slopes=[1e4, 1e4]).eval()
    plain = FoCusViT(arch=arch, img_size=32, patch_size=8).eval()
    plain.load_state_dict(local.state_dict())  # the bias is not saved
    assert 'attn_bias' not in local.state_dict()
    x = torch.randn(1, 3, 32, 32)
    y = x.clone()
    y[..., 24:, 24:] += 1.0  # patch 15 (bottom right)
    t_x, t_y = local(x)[0], local(y)[0]
    torch.testing.assert_close(t_x[:, :15], t_y[:, :15])
    assert (t_x[:, 15] - t_y[:, 15]).abs().max() > 1e-3
    p_x, p_y = plain(x)[0], plain(y)[0]
    assert (p_x[:, 0] - p_y[:, 0]).abs().max() > 1e-3  # global attention
    # zero slopes are the plain ViT
    zero = FoCusViT(arch=arch, img_size=32, patch_size=8,
                    attn_distance_slopes=[0.0, 0.0]).eval()
    zero.load_state_dict(local.state_dict())
    torch.testing.assert_close(zero(x)[0], p_x)


def test_closed_class_token_route_keeps_patches_local_in_depth():
    # two blocks: through the class token a far patch reaches every patch in
    # block 2; attn_prefix_bias=-1e4 closes that route
    torch.manual_seed(0)
    arch = dict(embed_dim=64, depth=2, num_heads=2, mlp_ratio=2.)
    x = torch.randn(1, 3, 32, 32)
    y = x.clone()
    y[..., 24:, 24:] += 1.0  # patch 15
    open_ = FoCusViT(arch=arch, img_size=32, patch_size=8,
                     attn_distance_slopes=[1e4, 1e4]).eval()
    closed = FoCusViT(arch=arch, img_size=32, patch_size=8,
                      attn_distance_slopes=[1e4, 1e4],
                      attn_prefix_bias=-1e4).eval()
    closed.load_state_dict(open_.state_dict())
    assert (open_(x)[0][:, 0] - open_(y)[0][:, 0]).abs().max() > 1e-4
    t_x, c_x = closed(x)
    t_y, c_y = closed(y)
    torch.testing.assert_close(t_x[:, :15], t_y[:, :15])
    assert (c_x - c_y).abs().max() > 1e-4  # the class token still sees all
    with pytest.raises(ValueError, match='attn_prefix_bias'):
        FoCusViT(arch=arch, img_size=32, patch_size=8, attn_prefix_bias=-1.)


def test_distance_bias_same_on_every_attention_path():
    torch.manual_seed(0)
    vit = FoCusViT(arch=TINY, img_size=32, patch_size=8, num_registers=2,
                   attn_distance_slopes=[1.0, 0.5]).eval()
    x = torch.randn(2, 3, 32, 32)
    tokens, cls = vit(x)
    out = vit.forward_with_intermediates(x, attn_indices=[0, 1])
    torch.testing.assert_close(out['patch_tokens'], tokens, atol=1e-5,
                               rtol=1e-5)
    for blk in vit.blocks:
        blk.attn.fused_attn = False  # timm's explicit softmax path
    torch.testing.assert_close(vit(x)[0], tokens, atol=1e-5, rtol=1e-5)
    for blk in vit.blocks:
        blk.attn.fused_attn = True
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = vit(x)[0]
    assert (low.float() - tokens).abs().max() < 0.1
    for bad in ([1.0], [1.0, -0.5]):
        with pytest.raises(ValueError, match='attn_distance_slopes'):
            FoCusViT(arch=TINY, img_size=32, patch_size=8,
                     attn_distance_slopes=bad)
