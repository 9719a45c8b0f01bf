using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Ujumbe.Api.Identity;

namespace Ujumbe.Api.Data;

/// <summary>
/// The Api's database. Every account-owned entity has a global query filter on the caller's
/// account, so tenant isolation holds by construction: a query that forgets a <c>where</c>
/// still sees only the caller's rows, and code without a caller (no account) sees none.
/// Crossing tenants (operator endpoints, the gateway's key lookup) takes an explicit
/// <c>IgnoreQueryFilters()</c>.
/// </summary>
public sealed class UjumbeDb(DbContextOptions<UjumbeDb> options, Caller caller) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<SenderId> SenderIds => Set<SenderId>();
    public DbSet<Balance> Balances => Set<Balance>();
    public DbSet<LedgerEntry> LedgerEntries => Set<LedgerEntry>();
    public DbSet<Batch> Batches => Set<Batch>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<Contact> Contacts => Set<Contact>();
    public DbSet<OptOut> OptOuts => Set<OptOut>();
    public DbSet<Segment> Segments => Set<Segment>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<Payment> Payments => Set<Payment>();

    /// <summary>The operators' content policy: platform-wide, not an account's.</summary>
    public DbSet<ContentRuleRow> ContentRules => Set<ContentRuleRow>();

    /// <summary>
    /// The caller's tenants, if the caller is a partner: the one way the partner API reaches accounts other
    /// than the caller's own (nobody's parent is <see cref="Guid.Empty"/>, so without a caller it is empty).
    /// </summary>
    public IQueryable<Account> Tenants => Accounts.IgnoreQueryFilters().Where(a => a.ParentAccountId == TenantId);

    /// <summary>The account every filtered query is confined to; <see cref="Guid.Empty"/> matches nothing.</summary>
    private Guid TenantId => caller.AccountIdOrEmpty;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var model = modelBuilder;
        model.Entity<Account>(account =>
        {
            account.Property(a => a.Status).HasConversion(SnakeCaseEnum<AccountStatus>());
            account.HasQueryFilter(a => a.Id == TenantId);
        });
        model.Entity<User>().HasQueryFilter(u => u.AccountId == TenantId);
        model.Entity<ApiKey>().HasQueryFilter(k => k.AccountId == TenantId);
        model.Entity<SenderId>(sender =>
        {
            sender.ToTable("sender_ids");
            sender.Property(s => s.Status).HasConversion(SnakeCaseEnum<SenderIdStatus>());
            sender.HasQueryFilter(s => s.AccountId == TenantId);
        });
        model.Entity<Balance>(balance =>
        {
            balance.HasKey(b => b.AccountId);
            balance.Property(b => b.Credits).HasColumnName("balance");
            balance.HasQueryFilter(b => b.AccountId == TenantId);
        });
        model.Entity<LedgerEntry>(entry =>
        {
            entry.ToTable("ledger_entries");
            entry.Property(e => e.Kind).HasConversion(SnakeCaseEnum<LedgerKind>());
            entry.Property(e => e.Seq).ValueGeneratedOnAdd();
            entry.HasQueryFilter(e => e.AccountId == TenantId);
        });
        // Batches and messages are written with SQL (group commit, COPY); the model is for reads.
        model.Entity<Batch>().HasQueryFilter(b => b.AccountId == TenantId);
        model.Entity<Message>().HasQueryFilter(m => m.AccountId == TenantId);
        model.Entity<Contact>(contact =>
        {
            // Stored as jsonb text and parsed here: a plain string mapping needs no dynamic JSON support in Npgsql.
            contact.Property(c => c.Attributes).HasColumnType("jsonb").HasConversion(
                attributes => attributes.ToJsonString(null),
                json => System.Text.Json.Nodes.JsonNode.Parse(json, null, default)!.AsObject(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<System.Text.Json.Nodes.JsonObject>(
                    (a, b) => System.Text.Json.Nodes.JsonNode.DeepEquals(a, b),
                    attributes => attributes.ToJsonString(null).GetHashCode(StringComparison.Ordinal),
                    attributes => System.Text.Json.Nodes.JsonNode.Parse(attributes.ToJsonString(null), null, default)!.AsObject()));
            contact.Property(c => c.Search).ValueGeneratedOnAddOrUpdate()
                .Metadata.SetAfterSaveBehavior(Microsoft.EntityFrameworkCore.Metadata.PropertySaveBehavior.Ignore);
            contact.HasQueryFilter(c => c.AccountId == TenantId);
        });
        model.Entity<OptOut>(optOut =>
        {
            optOut.ToTable("opt_outs");
            optOut.HasKey(o => new { o.AccountId, o.Phone });
            optOut.HasQueryFilter(o => o.AccountId == TenantId);
        });
        model.Entity<Segment>().HasQueryFilter(s => s.AccountId == TenantId);
        model.Entity<Campaign>(campaign =>
        {
            campaign.Property(c => c.Audience).HasColumnType("jsonb");
            campaign.HasQueryFilter(c => c.AccountId == TenantId);
        });
        model.Entity<ContentRuleRow>().ToTable("content_rules");
        // A payment is the credited account's, and also its partner's when the partner asked for it.
        model.Entity<Payment>().HasQueryFilter(p => p.AccountId == TenantId || p.RequestedBy == TenantId);

        ApplySnakeCaseNames(model);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        var conventions = configurationBuilder;
        // The schema uses timestamptz throughout; values are always UTC.
        conventions.Properties<DateTime>().HaveColumnType("timestamp with time zone");
    }

    /// <summary>The SQL migrations name tables and columns in snake_case; map the model onto them.</summary>
    private static void ApplySnakeCaseNames(ModelBuilder model)
    {
        // Idempotent on names already in snake_case, so explicit ToTable/HasColumnName calls keep their meaning.
        foreach (var entity in model.Model.GetEntityTypes())
        {
            if (entity.GetTableName() is { } table)
            {
                entity.SetTableName(SnakeCase(table));
            }
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.GetColumnName()));
            }
        }
    }

    internal static string SnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                {
                    text.Append('_');
                }
                text.Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(c);
            }
        }
        return text.ToString();
    }

    private static ValueConverter<TEnum, string> SnakeCaseEnum<TEnum>() where TEnum : struct, Enum =>
        new(value => SnakeCase(value.ToString()), text => Enum.Parse<TEnum>(text.Replace("_", ""), true));
}
