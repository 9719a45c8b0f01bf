using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Data;

namespace Ujumbe.Api.Auth;

/// <summary>An invitation as issued: the token is in this answer only.</summary>
public sealed record IssuedInvitation(string Email, string Token, DateTime ExpiresAt);

/// <summary>
/// How an account's owner gets a password (decision 0028): an operator (any account) or a partner (its tenants)
/// issues an invitation; its token, given to the owner as a link, sets the password once within 7 days.
/// Issuing again voids the earlier, unused ones.
/// </summary>
public sealed class Invitations(UjumbeDb db, NpgsqlDataSource database, IPasswordHasher<User> hasher, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);
    public const string TokenPrefix = "inv_";
    public const int MinPasswordLength = 12;
    public const int MaxPasswordLength = 1024;

    /// <summary>An invitation for the owner of <paramref name="accountId"/>; null if the account has no owner.</summary>
    public async Task<IssuedInvitation?> IssueAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var owner = await db.Users.IgnoreQueryFilters().AsNoTracking()
            .Where(u => u.AccountId == accountId && u.Role == Shared.Identity.Roles.Owner)
            .OrderBy(u => u.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (owner is null)
        {
            return null;
        }
        var token = TokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow().UtcDateTime;
        await using var batch = database.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("delete from invitations where user_id = $1 and accepted_at is null")
        {
            Parameters = { new() { Value = owner.Id } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "insert into invitations (id, user_id, token_hash, created_at, expires_at) values ($1, $2, $3, $4, $5)")
        {
            Parameters =
            {
                new() { Value = Guid.CreateVersion7(now) }, new() { Value = owner.Id }, new() { Value = Hash(token) },
                new() { Value = now }, new() { Value = now + Lifetime },
            },
        });
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return new IssuedInvitation(owner.Email, token, now + Lifetime);
    }

    /// <summary>Sets the invited user's password and uses up the token; the user's email, or null for a token that does not work.</summary>
    public async Task<string?> AcceptAsync(string token, string password, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Used up in the statement that finds it: two racing accepts of one token cannot both set a password.
        await using var use = new NpgsqlCommand("""
            update invitations set accepted_at = $2
             where token_hash = $1 and accepted_at is null and expires_at > $2
            returning (select email from users where users.id = invitations.user_id), user_id
            """, connection, transaction);
        use.Parameters.Add(new() { Value = Hash(token) });
        use.Parameters.Add(new() { Value = now });
        string email;
        Guid userId;
        await using (var row = await use.ExecuteReaderAsync(cancellationToken))
        {
            if (!await row.ReadAsync(cancellationToken))
            {
                return null;
            }
            (email, userId) = (row.GetString(0), row.GetGuid(1));
        }
        await using var set = new NpgsqlCommand("update users set password_hash = $2 where id = $1", connection, transaction);
        set.Parameters.Add(new() { Value = userId });
        set.Parameters.Add(new() { Value = hasher.HashPassword(null!, password) });
        await set.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return email;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
