namespace Ujumbe.Shared.Identity;

/// <summary>What an API key or a portal role may do (API.md "Authentication").</summary>
[Flags]
public enum Scopes
{
    None = 0,
    Messages = 1,
    Contacts = 2,
    Campaigns = 4,
    Account = 8,
    Partner = 16,
    Admin = 32,
}

public static class ScopeNames
{
    private static readonly (Scopes Scope, string Name)[] Names =
    [
        (Scopes.Messages, "messages"),
        (Scopes.Contacts, "contacts"),
        (Scopes.Campaigns, "campaigns"),
        (Scopes.Account, "account"),
        (Scopes.Partner, "partner"),
        (Scopes.Admin, "admin"),
    ];

    /// <summary>A new key's scopes when none are asked for: everything but <c>partner</c> and <c>admin</c>.</summary>
    public const Scopes DefaultForKey = Scopes.Messages | Scopes.Contacts | Scopes.Campaigns | Scopes.Account;

    public static IReadOnlyList<string> All { get; } = Names.Select(n => n.Name).ToArray();

    public static string[] ToNames(Scopes scopes) =>
        Names.Where(n => scopes.HasFlag(n.Scope)).Select(n => n.Name).ToArray();

    public static string Format(Scopes scopes) => string.Join(',', ToNames(scopes));

    public static bool TryParse(string name, out Scopes scope)
    {
        foreach (var (value, text) in Names)
        {
            if (string.Equals(text, name, StringComparison.Ordinal))
            {
                scope = value;
                return true;
            }
        }
        scope = Scopes.None;
        return false;
    }

    /// <summary>Parses names, collecting those that are unknown instead of failing on the first.</summary>
    public static Scopes Parse(IEnumerable<string> names, List<string>? unknown = null)
    {
        var scopes = Scopes.None;
        foreach (var name in names)
        {
            if (TryParse(name, out var scope))
            {
                scopes |= scope;
            }
            else
            {
                unknown?.Add(name);
            }
        }
        return scopes;
    }

    /// <summary>Parses the comma-separated form used in the gateway's identity header.</summary>
    public static Scopes ParseList(ReadOnlySpan<char> list)
    {
        var scopes = Scopes.None;
        foreach (var range in list.Split(','))
        {
            if (TryParse(list[range].ToString(), out var scope))
            {
                scopes |= scope;
            }
        }
        return scopes;
    }
}
