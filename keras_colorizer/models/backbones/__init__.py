"""Image encoders pretrained on ImageNet, for the generators that start from one."""
