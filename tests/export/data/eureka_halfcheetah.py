
import torch


@torch.jit.script
def compute_reward(
    x_velocity: torch.Tensor,
    ctrl_sq: torch.Tensor,
    torso_angle: torch.Tensor,
    torso_height: torch.Tensor,
    joint_bthigh_vel: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run forward fast, keep the torso level, spend little effort."""
    # Forward progress, squashed so that very high speeds do not dominate.
    speed_temperature = 4.0
    target_speed = 8.0
    speed_reward = torch.exp(-torch.abs(x_velocity - target_speed) / speed_temperature)

    # Keep the torso level: Eureka's favourite exponential kernel, with a named temperature.
    level_temperature = 0.3
    level_reward = torch.exp(-torch.abs(torso_angle) / level_temperature)

    # Control effort.
    ctrl_penalty = -0.1 * ctrl_sq

    # Stay low and fast: a clamp over a product of features.
    height_bonus = torch.clamp(0.7 - torso_height, min=0.0, max=0.3)

    # Something the design language cannot say: a running statistic over the batch.
    thigh_energy = joint_bthigh_vel.pow(2).mean() * torch.ones_like(joint_bthigh_vel)
    for _ in range(2):
        thigh_energy = thigh_energy * 0.5

    total_reward = 2.0 * speed_reward + 0.5 * level_reward + ctrl_penalty + height_bonus - 0.01 * thigh_energy
    components = {
        "speed_reward": speed_reward,
        "level_reward": level_reward,
        "ctrl_penalty": ctrl_penalty,
        "height_bonus": height_bonus,
        "thigh_energy": thigh_energy,
    }
    return total_reward, components
