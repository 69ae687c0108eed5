"""Which commands each member sees, in /help and in Telegram's command menu."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from core.organisations import Tier


@dataclass(frozen=True, slots=True)
class CommandInfo:
    command: str
    description: str


GENERAL_COMMANDS = (
    CommandInfo("start", "Link your account with an invite code"),
    CommandInfo("help", "List the commands you can use"),
)
MEMBER_GENERAL_COMMANDS = (
    CommandInfo("start", "Show the organisation you belong to"),
    CommandInfo("help", "List the commands you can use"),
)

_CANCEL_ISSUANCES = CommandInfo("issuances", "Cancel an issuance of the last 14 days")
_AUDIT = CommandInfo("audit", "Show the audit trail of an order: /audit PO")

TIER_COMMANDS: dict[Tier, tuple[CommandInfo, ...]] = {
    Tier.HEADQUARTERS: (_CANCEL_ISSUANCES, _AUDIT),
    Tier.BUSINESS_CENTRE: (_CANCEL_ISSUANCES, _AUDIT),
    Tier.DEALER: (
        CommandInfo("pending", "Orders waiting for you to issue them"),
        CommandInfo("stock", "Licenses in your stock"),
    ),
    Tier.CUSTOMER: (
        CommandInfo("order", "Order licenses"),
        CommandInfo("history", "Page through your orders and cancel one"),
        CommandInfo("inventory", "Unused and assigned licenses"),
        CommandInfo("assign", "Assign a license to a user by e-mail address"),
        CommandInfo("unassign", "Take a license back from a user"),
        CommandInfo("activate", "Add a license from a license card: /activate KEY"),
        CommandInfo("autoassign", "Renew a user's expired license: /autoassign EMAIL on|off"),
        CommandInfo("dealer", "See or change the dealer you order from"),
        CommandInfo("cancel", "Leave the form you are filling in"),
    ),
}


def commands_for(tier: Tier | None) -> tuple[CommandInfo, ...]:
    """Return the commands a member of ``tier`` may use; ``None`` means not linked."""
    if tier is None:
        return GENERAL_COMMANDS
    return TIER_COMMANDS.get(tier, ()) + MEMBER_GENERAL_COMMANDS


async def publish_default_menu(bot: Bot) -> None:
    """Set the menu shown in chats that have no menu of their own."""
    await bot.set_my_commands(_bot_commands(None), scope=BotCommandScopeDefault())


async def publish_menu(bot: Bot, chat_id: int, tier: Tier | None) -> None:
    """Show in this chat's command menu only what its member may do."""
    await bot.set_my_commands(_bot_commands(tier), scope=BotCommandScopeChat(chat_id))


def _bot_commands(tier: Tier | None) -> list[BotCommand]:
    return [BotCommand(info.command, info.description) for info in commands_for(tier)]
